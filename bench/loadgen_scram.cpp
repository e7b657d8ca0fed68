#include "loadgen_scram.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <stdexcept>

namespace loadgen {
namespace {

std::string hmac256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string sha256(std::string_view data) {
  unsigned char out[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), out);
  return std::string(reinterpret_cast<char*>(out), sizeof out);
}

// The value of attribute `name` ("s" in "r=..,s=..,i=..").
std::optional<std::string_view> attribute(std::string_view message, char name) {
  while (!message.empty()) {
    auto comma = message.find(',');
    std::string_view part = message.substr(0, comma);
    if (part.size() >= 2 && part[0] == name && part[1] == '=') return part.substr(2);
    if (comma == std::string_view::npos) break;
    message.remove_prefix(comma + 1);
  }
  return std::nullopt;
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out(3 * text.size() / 4, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()),
                          static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  std::size_t pad = 0;
  for (auto it = text.rbegin(); it != text.rend() && *it == '=' && pad < 2; ++it) ++pad;
  out.resize(static_cast<std::size_t>(n) - pad);  // EVP_DecodeBlock counts padding as zeros
  return out;
}

const std::string& salted_password_cache::get(const std::string& salt, unsigned iterations) {
  auto [it, fresh] = cache_.try_emplace({salt, iterations});
  if (fresh) {
    it->second.resize(SHA256_DIGEST_LENGTH);
    PKCS5_PBKDF2_HMAC(password_.data(), static_cast<int>(password_.size()),
                      reinterpret_cast<const unsigned char*>(salt.data()),
                      static_cast<int>(salt.size()), static_cast<int>(iterations), EVP_sha256(),
                      SHA256_DIGEST_LENGTH, reinterpret_cast<unsigned char*>(it->second.data()));
  }
  return it->second;
}

std::string scram_exchange::client_first(std::string_view user) {
  unsigned char raw[18];
  if (RAND_bytes(raw, sizeof raw) != 1) throw std::runtime_error("RAND_bytes failed");
  nonce_ = base64_encode(std::string_view(reinterpret_cast<char*>(raw), sizeof raw));
  client_first_bare_ = "n=" + std::string(user) + ",r=" + nonce_;
  return "n,," + client_first_bare_;
}

std::optional<std::string> scram_exchange::client_final(std::string_view server_first,
                                                        salted_password_cache& passwords) {
  auto r = attribute(server_first, 'r');
  auto s = attribute(server_first, 's');
  auto i = attribute(server_first, 'i');
  if (!r || !s || !i || r->substr(0, nonce_.size()) != nonce_ || r->size() == nonce_.size())
    return std::nullopt;
  auto salt = base64_decode(*s);
  unsigned iterations = 0;
  for (char c : *i) {
    if (c < '0' || c > '9' || iterations > 100000000) return std::nullopt;
    iterations = iterations * 10 + static_cast<unsigned>(c - '0');
  }
  if (!salt || iterations == 0) return std::nullopt;
  const std::string& salted = passwords.get(*salt, iterations);
  std::string without_proof = "c=biws,r=" + std::string(*r);  // biws: base64("n,,")
  std::string auth_message =
      client_first_bare_ + "," + std::string(server_first) + "," + without_proof;
  std::string client_key = hmac256(salted, "Client Key");
  std::string signature = hmac256(sha256(client_key), auth_message);
  std::string proof = client_key;
  for (std::size_t k = 0; k < proof.size(); ++k) proof[k] ^= signature[k];
  server_signature_ = hmac256(hmac256(salted, "Server Key"), auth_message);
  return without_proof + ",p=" + base64_encode(proof);
}

bool scram_exchange::verify(std::string_view server_final) const {
  auto v = attribute(server_final, 'v');
  if (!v || server_signature_.empty()) return false;
  auto got = base64_decode(*v);
  return got && got->size() == server_signature_.size() &&
         CRYPTO_memcmp(got->data(), server_signature_.data(), got->size()) == 0;
}

}  // namespace loadgen
