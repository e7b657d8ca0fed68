// UTF-8 decoding per RFC 3629.

#include "core/base/utf8.hpp"

#include <gtest/gtest.h>

namespace iotxmpp {
namespace {

TEST(Utf8, DecodesEachLength) {
  EXPECT_EQ(utf8::decode("A", 0).code_point, U'A');
  auto two = utf8::decode("\xC3\xA9", 0);
  EXPECT_EQ(two.code_point, U'\u00E9');
  EXPECT_EQ(two.length, 2u);
  auto three = utf8::decode("x\xE2\x82\xAC", 1);
  EXPECT_EQ(three.code_point, U'\u20AC');
  EXPECT_EQ(three.length, 3u);
  auto four = utf8::decode("\xF0\x9F\x98\x80", 0);
  EXPECT_EQ(four.code_point, U'\U0001F600');
  EXPECT_EQ(four.length, 4u);
}

TEST(Utf8, RejectsMalformedSequences) {
  for (std::string_view bad :
       {"\x80", "\xC3", "\xC3\x28", "\xC0\x80", "\xE0\x80\x80", "\xF0\x80\x80\x80", "\xED\xA0\x80",
        "\xF4\x90\x80\x80", "\xF8", "\xFF", "\xE2\x82"}) {
    EXPECT_EQ(utf8::decode(bad, 0).length, 0u) << testing::PrintToString(bad);
    EXPECT_FALSE(utf8::valid(bad));
  }
}

TEST(Utf8, ValidWholeStrings) {
  EXPECT_TRUE(utf8::valid(""));
  EXPECT_TRUE(utf8::valid("plain ascii"));
  EXPECT_TRUE(utf8::valid("21.5 \u00B0C \xF4\x8F\xBF\xBF"));  // U+10FFFF is the last
  EXPECT_FALSE(utf8::valid("ok then \xC3"));
}

}  // namespace
}  // namespace iotxmpp
