#pragma once
// The load generator's SCRAM-SHA-256 client (RFC 5802, RFC 7677), without
// channel binding (gs2 header "n,,"), on OpenSSL's primitives. Its own, not
// iotxmpp's: the generator contains no iotxmpp code, and it keeps the
// salted password per salt, which a client may do (RFC 5802 §5.1) and which
// keeps 4096 PBKDF2 iterations per login out of the generator's timed work.

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace loadgen {

std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);

// SaltedPassword per (salt, iterations) for one password; not thread-safe.
class salted_password_cache {
 public:
  explicit salted_password_cache(std::string password) : password_(std::move(password)) {}
  const std::string& get(const std::string& salt, unsigned iterations);
  std::size_t computed() const { return cache_.size(); }

 private:
  std::string password_;
  std::map<std::pair<std::string, unsigned>, std::string> cache_;
};

// One exchange: client_first, then client_final for the server's challenge,
// then verify on the server's success data.
class scram_exchange {
 public:
  // The client-first-message for `user` (plain ASCII without ',' or '=').
  std::string client_first(std::string_view user);
  // The client-final-message, or nullopt when the server-first-message does
  // not parse or its nonce does not extend ours.
  std::optional<std::string> client_final(std::string_view server_first,
                                          salted_password_cache& passwords);
  // Whether the server-final-message ("v=...") proves the server knew the keys.
  bool verify(std::string_view server_final) const;

 private:
  std::string client_first_bare_;
  std::string nonce_;
  std::string server_signature_;
};

}  // namespace loadgen
