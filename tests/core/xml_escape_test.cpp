// The one XML escaper and its written guarantee (xml_escape.hpp), through
// both of its users: xml_element and append_attribute.

#include "core/xml/xml_escape.hpp"

#include <gtest/gtest.h>

#include <pugixml.hpp>

#include "core/xml/xml_attr.hpp"
#include "core/xml/xml_element.hpp"

namespace iotxmpp {
namespace {

using namespace std::string_literals;

std::string escaped(std::string_view s, xml_context where) {
  std::string out;
  append_escaped(out, s, where);
  return out;
}

TEST(XmlEscape, EscapesMarkupAndKeepsWhitespaceWhereItWouldBeLost) {
  EXPECT_EQ(escaped("a&b<c>d'e\"f", xml_context::text), "a&amp;b&lt;c&gt;d&apos;e&quot;f");
  EXPECT_EQ(escaped("1\t2\n3\r4", xml_context::text), "1\t2\n3&#13;4");
  EXPECT_EQ(escaped("1\t2\n3\r4", xml_context::attribute), "1&#9;2&#10;3&#13;4");
  std::string out;
  append_escaped(out, "a'b\n");  // the attribute form
  EXPECT_EQ(out, "a&apos;b&#10;");
}

TEST(XmlEscape, DropsEveryOtherC0ControlInBothContexts) {
  std::string all_c0;
  for (int c = 0; c < 0x20; ++c) all_c0 += static_cast<char>(c);
  std::string with = "x" + all_c0 + "y";
  EXPECT_EQ(escaped(with, xml_context::text), "x\t\n&#13;y");
  EXPECT_EQ(escaped(with, xml_context::attribute), "x&#9;&#10;&#13;y");
  EXPECT_EQ(escaped("\0\0"s, xml_context::text), "");
}

TEST(XmlEscape, KeepsDelAndC1ControlsWhichXmlAllows) {
  EXPECT_EQ(escaped("a\x7F"
                    "b\xC2\x85"
                    "c",
                    xml_context::text),
            "a\x7F"
            "b\xC2\x85"
            "c");
}

TEST(XmlEscape, ReplacesBadUtf8AndNonCharactersWithFffd) {
  const std::string fffd = "\xEF\xBF\xBD";
  EXPECT_EQ(escaped("\xFF", xml_context::text), fffd);                        // never a UTF-8 byte
  EXPECT_EQ(escaped("a\x80z", xml_context::text), "a" + fffd + "z");          // stray continuation
  EXPECT_EQ(escaped("\xC0\xAF", xml_context::text), fffd + fffd);             // overlong '/'
  EXPECT_EQ(escaped("\xED\xA0\x80", xml_context::text), fffd + fffd + fffd);  // surrogate
  EXPECT_EQ(escaped("\xE2\x82", xml_context::text), fffd + fffd);             // truncated
  EXPECT_EQ(escaped("\xEF\xBF\xBE\xEF\xBF\xBF", xml_context::text), fffd + fffd);  // U+FFFE/F
  EXPECT_EQ(escaped("\xC3\xA9\xF0\x9F\x98\x80", xml_context::text), "\xC3\xA9\xF0\x9F\x98\x80");
}

TEST(XmlEscape, BothWritersGiveTheSameAttributeAndAlwaysWellFormedXml) {
  std::string nasty = "a\x01<&>'\"\t\n\r\x1F\xFF\xC3z";
  std::string by_attr;
  append_attribute(by_attr, "v", nasty);
  xml_element e("x");
  e.set("v", nasty).set_text(nasty);
  EXPECT_EQ(e.str(), "<x" + by_attr + ">" + escaped(nasty, xml_context::text) + "</x>");
  pugi::xml_document doc;
  std::string text = e.str();
  ASSERT_TRUE(doc.load_buffer(text.data(), text.size(), pugi::parse_escapes)) << text;
  EXPECT_STREQ(doc.child("x").attribute("v").value(), "a<&>'\"\t\n\r\xEF\xBF\xBD\xEF\xBF\xBDz");
}

}  // namespace
}  // namespace iotxmpp
