#pragma once
// SCRAM credentials (RFC 5802 §3, RFC 7677) over OpenSSL's PBKDF2 and HMAC:
// what the store keeps for an account instead of its password, and the
// check of a password against them (SASL PLAIN).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace iotxmpp {

enum class scram_hash { sha1, sha256 };

// "SHA-1" / "SHA-256" (account_credentials::hash), and back.
std::string_view hash_name(scram_hash h);
std::optional<scram_hash> hash_from_name(std::string_view name);

// Iterations below this are refused (RFC 7677 §4 recommends 4096 at least).
inline constexpr std::uint32_t min_scram_iterations = 4096;
inline constexpr std::uint32_t default_scram_iterations = 4096;

struct scram_keys {
  scram_hash hash = scram_hash::sha256;
  std::string salt;  // raw bytes
  std::uint32_t iterations = default_scram_iterations;
  std::string stored_key;  // H(HMAC(SaltedPassword, "Client Key"))
  std::string server_key;  // HMAC(SaltedPassword, "Server Key")
};

// `n` bytes from OpenSSL's RAND_bytes (a salt, a nonce, a secret).
std::string random_bytes(std::size_t n);

// SaltedPassword := Hi(password, salt, i) (PBKDF2 with HMAC-H).
std::string salted_password(scram_hash h, std::string_view password, std::string_view salt,
                            std::uint32_t iterations);
// The stored and server keys of `password` with this salt and count.
scram_keys derive_scram_keys(scram_hash h, std::string_view password, std::string_view salt,
                             std::uint32_t iterations);
// A new salt (16 random bytes) and the keys of `password` under it.
scram_keys new_scram_keys(scram_hash h, std::string_view password,
                          std::uint32_t iterations = default_scram_iterations);

// HMAC-H(key, data) and H(data).
std::string hmac(scram_hash h, std::string_view key, std::string_view data);
std::string digest(scram_hash h, std::string_view data);

// Whether `password` has these keys: recomputes the stored key and compares
// in constant time (CRYPTO_memcmp).
bool password_matches(const scram_keys& keys, std::string_view password);

// Constant-time equality of two byte strings (false when sizes differ).
bool same_bytes(std::string_view a, std::string_view b);

}  // namespace iotxmpp
