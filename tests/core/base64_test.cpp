// Base64 (base64.hpp): RFC 4648 vectors, round trips, and every form that is
// not canonical base64.

#include "core/sasl/base64.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace iotxmpp {
namespace {

TEST(Base64, Rfc4648Vectors) {
  const std::vector<std::pair<std::string, std::string>> vectors = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [bytes, text] : vectors) {
    EXPECT_EQ(base64_encode(bytes), text);
    EXPECT_EQ(base64_decode(text), bytes) << text;
  }
}

TEST(Base64, EveryByteValueRoundTrips) {
  std::string all;
  for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
  for (std::size_t n = 0; n <= all.size(); ++n) {
    const std::string bytes = all.substr(all.size() - n);  // ends in 0xff, starts anywhere
    const std::string text = base64_encode(bytes);
    EXPECT_EQ(text.size() % 4, 0u);
    EXPECT_EQ(base64_decode(text), bytes) << n;
  }
}

TEST(Base64, TheWholeAlphabetDecodes) {
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const auto bytes = base64_decode(alphabet);
  ASSERT_TRUE(bytes);
  EXPECT_EQ(bytes->size(), 48u);
  EXPECT_EQ(base64_encode(*bytes), alphabet);
}

TEST(Base64, EmptyForms) {
  EXPECT_EQ(base64_decode(""), "");
  EXPECT_EQ(base64_decode("="), "");  // RFC 6120 §6.4.2
  EXPECT_EQ(base64_encode(""), "");
}

TEST(Base64, NonCanonicalFormsAreRejected) {
  const std::vector<std::string> bad = {
      "Z",
      "Zg",
      "Zg=",
      "Zm9vY",
      "Zm9vYg=",  // length
      "==",
      "===",
      "====",
      "Z===",
      "=Zg=",  // padding
      "Zg==Zg==",
      "Zm=v",
      "Zm9v=",
      "Zg=a",  // padding inside
      "Zm9 ",
      " Zm9",
      "Zm9v\n",
      "Zm\r\nv",
      "Zm\t9v",  // whitespace
      "Zm-v",
      "Zm_v",
      "Zm.v",
      "Zm9\xc3",                // outside the alphabet
      std::string("Zm\0v", 4),  // NUL
  };
  for (const std::string& text : bad) EXPECT_FALSE(base64_decode(text)) << text;
}

}  // namespace
}  // namespace iotxmpp
