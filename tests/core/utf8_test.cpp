// utf8_decoder and the XML character classes.

#include "core/base/utf8.hpp"

#include <gtest/gtest.h>

#include <string>

namespace iotxmpp {
namespace {

using result = utf8_decoder::result;

// Decodes `bytes` whole: the code point, or -1 when any byte is refused or
// the sequence is unfinished.
long decode(std::string_view bytes) {
  utf8_decoder d;
  result r = result::more;
  for (unsigned char b : bytes) {
    r = d.feed(b);
    if (r == result::invalid) return -1;
  }
  return r == result::done ? static_cast<long>(d.code_point()) : -1;
}

TEST(Utf8Decoder, EveryScalarValueRoundTrips) {
  for (char32_t cp = 0; cp <= 0x10FFFF; ++cp) {
    if (cp == 0xD800) cp = 0xE000;
    char bytes[4];
    const std::size_t n = encode_utf8(cp, bytes);
    ASSERT_EQ(decode({bytes, n}), static_cast<long>(cp))
        << std::hex << static_cast<unsigned long>(cp);
  }
}

TEST(Utf8Decoder, BoundariesOfEachLength) {
  EXPECT_EQ(decode("\x7f"), 0x7F);
  EXPECT_EQ(decode("\xc2\x80"), 0x80);
  EXPECT_EQ(decode("\xdf\xbf"), 0x7FF);
  EXPECT_EQ(decode("\xe0\xa0\x80"), 0x800);
  EXPECT_EQ(decode("\xed\x9f\xbf"), 0xD7FF);
  EXPECT_EQ(decode("\xee\x80\x80"), 0xE000);
  EXPECT_EQ(decode("\xef\xbf\xbf"), 0xFFFF);
  EXPECT_EQ(decode("\xf0\x90\x80\x80"), 0x10000);
  EXPECT_EQ(decode("\xf4\x8f\xbf\xbf"), 0x10FFFF);
}

TEST(Utf8Decoder, RefusesMalformedSequences) {
  for (const char* bad : {"\x80", "\xbf", "\xc0\x80", "\xc1\xbf", "\xe0\x80\x80", "\xe0\x9f\xbf",
                          "\xed\xa0\x80", "\xed\xbf\xbf", "\xf0\x80\x80\x80", "\xf0\x8f\xbf\xbf",
                          "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xf8\x88\x80\x80\x80", "\xfe",
                          "\xff", "\xc3\x28", "\xe2\x28\xa1", "\xf0\x9f\x98\x28"}) {
    EXPECT_EQ(decode(bad), -1) << bad;
  }
}

TEST(Utf8Decoder, PendingWhileUnfinished) {
  utf8_decoder d;
  EXPECT_EQ(d.feed(0xF0), result::more);
  EXPECT_TRUE(d.pending());
  EXPECT_EQ(d.feed(0x9F), result::more);
  EXPECT_EQ(d.feed(0x98), result::more);
  EXPECT_EQ(d.feed(0x80), result::done);
  EXPECT_FALSE(d.pending());
  EXPECT_EQ(static_cast<long>(d.code_point()), 0x1F600);
  EXPECT_EQ(d.feed(0xC3), result::more);
  EXPECT_EQ(d.feed('a'), result::invalid);
}

TEST(XmlChars, CharClasses) {
  EXPECT_TRUE(is_xml_char(0x9));
  EXPECT_FALSE(is_xml_char(0x0));
  EXPECT_FALSE(is_xml_char(0xC));
  EXPECT_TRUE(is_xml_char(0xD7FF));
  EXPECT_FALSE(is_xml_char(0xDC00));
  EXPECT_FALSE(is_xml_char(0xFFFE));
  EXPECT_TRUE(is_xml_char(0x10FFFF));
  EXPECT_FALSE(is_xml_char(0x110000));
  EXPECT_TRUE(is_name_start_char(':'));
  EXPECT_TRUE(is_name_start_char(0xE9));
  EXPECT_FALSE(is_name_start_char('-'));
  EXPECT_FALSE(is_name_start_char(0xD7));
  EXPECT_TRUE(is_name_char('-'));
  EXPECT_TRUE(is_name_char(0xB7));
  EXPECT_FALSE(is_name_char(' '));
  EXPECT_FALSE(is_name_char(0xF0000));
}

}  // namespace
}  // namespace iotxmpp
