// SCRAM credentials (scram_credentials.hpp): the primitives against published
// vectors (RFC 6070 PBKDF2, RFC 2202 / RFC 4231 HMAC, FIPS 180 digests), the
// keys of the RFC 5802 example, and new keys.

#include "core/sasl/scram_credentials.hpp"

#include <gtest/gtest.h>

#include <string>

#include "core/sasl/base64.hpp"

namespace iotxmpp {
namespace {

std::string hex(std::string_view bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (const char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

TEST(ScramCredentials, HashNamesRoundTrip) {
  EXPECT_EQ(hash_name(scram_hash::sha1), "SHA-1");
  EXPECT_EQ(hash_name(scram_hash::sha256), "SHA-256");
  EXPECT_EQ(hash_from_name("SHA-1"), scram_hash::sha1);
  EXPECT_EQ(hash_from_name("SHA-256"), scram_hash::sha256);
  for (const char* name : {"", "sha-1", "SHA1", "SHA-512", "SHA-256 "}) {
    EXPECT_FALSE(hash_from_name(name)) << name;
  }
}

TEST(ScramCredentials, SaltedPasswordIsPbkdf2) {
  // RFC 6070 §2 (PBKDF2-HMAC-SHA1, dkLen 20 = the SHA-1 size).
  EXPECT_EQ(hex(salted_password(scram_hash::sha1, "password", "salt", 1)),
            "0c60c80f961f0e71f3a9b524af6012062fe037a6");
  EXPECT_EQ(hex(salted_password(scram_hash::sha1, "password", "salt", 4096)),
            "4b007901b765489abead49d926f721d065a429c1");
  // PBKDF2-HMAC-SHA256, dkLen 32 (the published SHA-256 counterpart).
  EXPECT_EQ(hex(salted_password(scram_hash::sha256, "password", "salt", 4096)),
            "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a");
}

TEST(ScramCredentials, HmacAndDigestVectors) {
  // RFC 2202 §3 and RFC 4231 §4.3, test case 2.
  EXPECT_EQ(hex(hmac(scram_hash::sha1, "Jefe", "what do ya want for nothing?")),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
  EXPECT_EQ(hex(hmac(scram_hash::sha256, "Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(hex(digest(scram_hash::sha1, "abc")), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(hex(digest(scram_hash::sha256, "abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(ScramCredentials, KeysFollowRfc5802Section3) {
  for (const scram_hash h : {scram_hash::sha1, scram_hash::sha256}) {
    SCOPED_TRACE(hash_name(h));
    const std::string salt = base64_decode("QSXCR+Q6sek8bf92").value();
    const scram_keys k = derive_scram_keys(h, "pencil", salt, 4096);
    const std::string salted = salted_password(h, "pencil", salt, 4096);
    EXPECT_EQ(k.hash, h);
    EXPECT_EQ(k.salt, salt);
    EXPECT_EQ(k.iterations, 4096u);
    EXPECT_EQ(k.stored_key, digest(h, hmac(h, salted, "Client Key")));
    EXPECT_EQ(k.server_key, hmac(h, salted, "Server Key"));
    EXPECT_EQ(k.stored_key.size(), h == scram_hash::sha1 ? 20u : 32u);
  }
}

TEST(ScramCredentials, NewKeysHaveAFreshSaltAndMatchTheirPassword) {
  const scram_keys a = new_scram_keys(scram_hash::sha256, "pw");
  const scram_keys b = new_scram_keys(scram_hash::sha256, "pw");
  EXPECT_EQ(a.salt.size(), 16u);
  EXPECT_EQ(a.iterations, default_scram_iterations);
  EXPECT_GE(default_scram_iterations, min_scram_iterations);
  EXPECT_NE(a.salt, b.salt);
  EXPECT_NE(a.stored_key, b.stored_key);
  EXPECT_TRUE(password_matches(a, "pw"));
  EXPECT_TRUE(password_matches(b, "pw"));
  EXPECT_FALSE(password_matches(a, "pw2"));
  const scram_keys c = new_scram_keys(scram_hash::sha1, "pw", 5000);
  EXPECT_EQ(c.iterations, 5000u);
  EXPECT_TRUE(password_matches(c, "pw"));
}

TEST(ScramCredentials, RandomBytesHaveTheirSizeAndDiffer) {
  EXPECT_EQ(random_bytes(0).size(), 0u);
  EXPECT_EQ(random_bytes(1).size(), 1u);
  EXPECT_EQ(random_bytes(32).size(), 32u);
  EXPECT_NE(random_bytes(32), random_bytes(32));
}

TEST(ScramCredentials, SameBytes) {
  using namespace std::string_literals;
  EXPECT_TRUE(same_bytes("", ""));
  EXPECT_TRUE(same_bytes("abc", "abc"));
  EXPECT_TRUE(same_bytes("a\0b"s, "a\0b"s));
  EXPECT_FALSE(same_bytes("a\0b"s, "a\0c"s));
  EXPECT_FALSE(same_bytes("abc", "abd"));
  EXPECT_FALSE(same_bytes("abc", "xbc"));
  EXPECT_FALSE(same_bytes("abc", "abcd"));
  EXPECT_FALSE(same_bytes("abc", ""));
}

}  // namespace
}  // namespace iotxmpp
