// SASL PLAIN (plain.hpp) and the check of its password against SCRAM keys.

#include "core/sasl/plain.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/sasl/scram_credentials.hpp"

namespace iotxmpp {
namespace {

using namespace std::string_literals;

TEST(Plain, ParsesWithoutAuthzid) {
  const auto m = parse_plain("\0user\0pencil"s);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->authzid, "");
  EXPECT_EQ(m->authcid, "user");
  EXPECT_EQ(m->password, "pencil");
}

TEST(Plain, ParsesWithAuthzid) {
  const auto m = parse_plain("admin\0user\0pencil"s);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->authzid, "admin");
  EXPECT_EQ(m->authcid, "user");
  EXPECT_EQ(m->password, "pencil");
}

TEST(Plain, KeepsUtf8AndSpacesAsTheyAre) {
  const auto m = parse_plain("\0us\xc3\xa9r\0p\xe2\x82\xac ss \xf0\x9f\x94\x91"s);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->authcid, "us\xc3\xa9r");
  EXPECT_EQ(m->password, "p\xe2\x82\xac ss \xf0\x9f\x94\x91");
}

TEST(Plain, MakeGivesNulAuthcidNulPassword) {
  EXPECT_EQ(make_plain("user", "pencil"), "\0user\0pencil"s);
  const auto m = parse_plain(make_plain("sensor-1", "s3cret pass"));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->authzid, "");
  EXPECT_EQ(m->authcid, "sensor-1");
  EXPECT_EQ(m->password, "s3cret pass");
}

TEST(Plain, FieldsOf255BytesAreAccepted) {
  const std::string f(255, 'a');
  const auto m = parse_plain(f + '\0' + f + '\0' + f);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->authzid.size(), 255u);
  EXPECT_EQ(m->authcid.size(), 255u);
  EXPECT_EQ(m->password.size(), 255u);
}

TEST(Plain, EachBadMessageIsRejected) {
  const std::string long_field(256, 'a');
  const std::vector<std::string> bad = {
      ""s,
      "userpencil"s,                     // no NUL
      "user\0pencil"s,                   // one NUL
      "\0user\0pencil\0"s,               // three
      "\0user\0pen\0cil"s,               //
      "\0\0pencil"s,                     // empty authcid
      "\0user\0"s,                       // empty password
      "\0\0"s,                           //
      long_field + "\0user\0pencil"s,    // authzid too long
      "\0"s + long_field + "\0pencil"s,  // authcid too long
      "\0user\0"s + long_field,          // password too long
      "\xff\0user\0pencil"s,             // authzid not UTF-8
      "\0us\xffr\0pencil"s,              // authcid not UTF-8
      "\0user\0pen\xc3"s,                // password cut mid-character
      "\0user\0\xc0\xafpw"s,             // overlong form
      "\0user\0\xed\xa0\x80pw"s,         // surrogate
  };
  for (const std::string& message : bad) {
    EXPECT_FALSE(parse_plain(message)) << testing::PrintToString(message);
  }
}

TEST(Plain, PasswordMatchesTheKeysOfThatPasswordOnly) {
  for (const scram_hash h : {scram_hash::sha1, scram_hash::sha256}) {
    SCOPED_TRACE(hash_name(h));
    const scram_keys keys = new_scram_keys(h, "pencil");
    EXPECT_TRUE(password_matches(keys, "pencil"));
    EXPECT_FALSE(password_matches(keys, "pencil "));
    EXPECT_FALSE(password_matches(keys, "Pencil"));
    EXPECT_FALSE(password_matches(keys, "pencil2"));
    EXPECT_FALSE(password_matches(keys, ""));
    // The same password under another salt gives other keys.
    scram_keys other = new_scram_keys(h, "pencil");
    other.salt = keys.salt + "x";
    EXPECT_FALSE(password_matches(other, "pencil"));
  }
}

}  // namespace
}  // namespace iotxmpp
