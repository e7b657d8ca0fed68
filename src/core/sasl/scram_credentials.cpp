#include "core/sasl/scram_credentials.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <stdexcept>

namespace iotxmpp {
namespace {

const EVP_MD* md(scram_hash h) { return h == scram_hash::sha1 ? EVP_sha1() : EVP_sha256(); }

}  // namespace

std::string_view hash_name(scram_hash h) { return h == scram_hash::sha1 ? "SHA-1" : "SHA-256"; }

std::optional<scram_hash> hash_from_name(std::string_view name) {
  if (name == "SHA-1") return scram_hash::sha1;
  if (name == "SHA-256") return scram_hash::sha256;
  return std::nullopt;
}

std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  // RAND_bytes fails only when the kernel's entropy source is unusable: no
  // secret may come out of that, so it is the one place that throws.
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1)
    throw std::runtime_error("RAND_bytes failed: no random source");
  return out;
}

std::string salted_password(scram_hash h, std::string_view password, std::string_view salt,
                            std::uint32_t iterations) {
  std::string out(static_cast<std::size_t>(EVP_MD_get_size(md(h))), '\0');
  PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                    reinterpret_cast<const unsigned char*>(salt.data()),
                    static_cast<int>(salt.size()), static_cast<int>(iterations), md(h),
                    static_cast<int>(out.size()), reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

std::string hmac(scram_hash h, std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  HMAC(md(h), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &n);
  return std::string(reinterpret_cast<const char*>(out), n);
}

std::string digest(scram_hash h, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), out, &n, md(h), nullptr);
  return std::string(reinterpret_cast<const char*>(out), n);
}

scram_keys derive_scram_keys(scram_hash h, std::string_view password, std::string_view salt,
                             std::uint32_t iterations) {
  const std::string salted = salted_password(h, password, salt, iterations);
  scram_keys k;
  k.hash = h;
  k.salt = std::string(salt);
  k.iterations = iterations;
  k.stored_key = digest(h, hmac(h, salted, "Client Key"));
  k.server_key = hmac(h, salted, "Server Key");
  return k;
}

scram_keys new_scram_keys(scram_hash h, std::string_view password, std::uint32_t iterations) {
  return derive_scram_keys(h, password, random_bytes(16), iterations);
}

bool same_bytes(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool password_matches(const scram_keys& keys, std::string_view password) {
  const auto again = derive_scram_keys(keys.hash, password, keys.salt, keys.iterations);
  return same_bytes(again.stored_key, keys.stored_key);
}

}  // namespace iotxmpp
