// The outgoing-XML element tree and writer: structure, escaping, copies of
// parsed nodes and direct writing of parsed nodes.

#include "core/xml/xml_element.hpp"

#include <gtest/gtest.h>
#include <pugixml.hpp>

#include <string>

namespace iotxmpp {
namespace {

// Parses `xml` (one element) into `doc` and returns its root element.
pugi::xml_node parse(pugi::xml_document& doc, const std::string& xml) {
  const auto ok = doc.load_buffer(xml.data(), xml.size());
  EXPECT_TRUE(ok) << ok.description() << " in " << xml;
  return doc.document_element();
}

// Same name, attributes (in order), text and children, recursively.
void expect_same(const xml_element& e, pugi::xml_node n) {
  ASSERT_TRUE(n);
  EXPECT_EQ(e.name(), n.name());
  std::size_t i = 0;
  for (const auto attr : n.attributes()) {
    ASSERT_LT(i, e.attributes().size()) << "extra attribute " << attr.name();
    EXPECT_EQ(e.attributes()[i].first, attr.name());
    EXPECT_EQ(e.attributes()[i].second, attr.value());
    ++i;
  }
  EXPECT_EQ(i, e.attributes().size());
  std::string text;
  std::size_t c = 0;
  for (const auto child : n.children()) {
    if (child.type() == pugi::node_pcdata || child.type() == pugi::node_cdata)
      text += child.value();
    if (child.type() != pugi::node_element) continue;
    ASSERT_LT(c, e.children().size());
    expect_same(e.children()[c++], child);
  }
  EXPECT_EQ(c, e.children().size());
  EXPECT_EQ(e.text(), text);
}

TEST(XmlElement, EmptyElementIsSelfClosing) {
  EXPECT_EQ(xml_element("presence").str(), "<presence/>");
  EXPECT_EQ(xml_element("ping").set("xmlns", "urn:xmpp:ping").str(),
            "<ping xmlns='urn:xmpp:ping'/>");
}

TEST(XmlElement, SetReplacesAndGetReadsAttributes) {
  xml_element e("iq");
  e.set("type", "get").set("id", "1").set("type", "set");
  ASSERT_EQ(e.attributes().size(), 2u);
  EXPECT_EQ(e.get("type"), "set");
  EXPECT_EQ(e.get("id"), "1");
  EXPECT_EQ(e.get("to"), "");
  EXPECT_EQ(e.str(), "<iq type='set' id='1'/>");
}

TEST(XmlElement, AddChildReturnsTheNewChild) {
  xml_element iq("iq");
  iq.add_child("query").set("xmlns", "jabber:iq:version").add_child("name").set_text("iotxmpp");
  iq.add(xml_element("x"));
  ASSERT_EQ(iq.children().size(), 2u);
  EXPECT_EQ(iq.children()[0].name(), "query");
  EXPECT_EQ(iq.children()[0].children()[0].text(), "iotxmpp");
  EXPECT_EQ(iq.str(), "<iq><query xmlns='jabber:iq:version'><name>iotxmpp</name></query><x/></iq>");
}

TEST(XmlElement, EscapesEverySpecialCharacterInText) {
  xml_element e("body");
  e.set_text("a&b<c>d'e\"f\ng\th\ri");
  EXPECT_EQ(e.str(), "<body>a&amp;b&lt;c&gt;d&apos;e&quot;f\ng\th&#13;i</body>");
}

TEST(XmlElement, EscapesEverySpecialCharacterInAttributes) {
  xml_element e("x");
  e.set("v", "a&b<c>d'e\"f\ng\th\ri");
  EXPECT_EQ(e.str(), "<x v='a&amp;b&lt;c&gt;d&apos;e&quot;f&#10;g&#9;h&#13;i'/>");
}

TEST(XmlElement, DropsControlCharactersXmlForbids) {
  xml_element e("x");
  using namespace std::string_literals;
  e.set("a", "1\0012\0373\0004"s).set_text("\010ok\013\014");
  EXPECT_EQ(e.str(), "<x a='1234'>ok</x>");
}

TEST(XmlElement, ReplacesInvalidUtf8AndKeepsValid) {
  xml_element e("x");
  e.set_text("21.5\u00B0C \xFF \xC3 \xEF\xBF\xBE \xF0\x9F\x98\x80");
  EXPECT_EQ(e.str(), "<x>21.5\u00B0C \xEF\xBF\xBD \xEF\xBF\xBD \xEF\xBF\xBD \xF0\x9F\x98\x80</x>");
}

TEST(XmlElement, RoundTripsThroughPugixml) {
  xml_element m("message");
  m.set("to", "iot.local").set("id", "s-<42>&'\"").set("note", "tab\there\nline\rcr");
  auto& fields = m.add_child("fields");
  fields.set("xmlns", "urn:xmpp:iot:sensordata").set("seqnr", "42");
  auto& node = fields.add_child("node");
  node.set("nodeId", "k\u00FCche & bath");
  node.add_child("numeric").set("name", "temperature").set("value", "21.5").set("unit", "\u00B0C");
  node.add_child("numeric").set("name", "humidity").set("value", "40.2");
  m.add_child("body").set_text("<hello> & 'bye' \"now\"\n\xE2\x82\xAC");

  pugi::xml_document doc;
  const std::string xml = m.str();
  expect_same(m, parse(doc, xml));
}

TEST(XmlElement, FromCopiesParsedStanzaWithEntities) {
  const std::string xml =
      "<message to='iot.local' id=\"a&amp;b\">"
      "<!-- dropped --><body>x &lt; y &#x263A; <![CDATA[<raw>&]]></body>"
      "<fields xmlns='urn:xmpp:iot:sensordata'><node nodeId='k'>"
      "<numeric name='t' value='1'/><numeric name='h' value='2'/></node></fields></message>";
  pugi::xml_document doc;
  const auto root = parse(doc, xml);
  const auto copy = xml_element::from(root);
  expect_same(copy, root);
  EXPECT_EQ(copy.get("id"), "a&b");
  ASSERT_EQ(copy.children().size(), 2u);
  EXPECT_EQ(copy.children()[0].text(), "x < y \xE2\x98\xBA <raw>&");
  EXPECT_EQ(copy.children()[1].children()[0].children()[1].get("name"), "h");
  EXPECT_EQ(xml_element::from(doc).name(), "message");  // a document gives its root

  // Written again it parses to the same tree.
  pugi::xml_document again;
  expect_same(copy, parse(again, copy.str()));
}

TEST(XmlElement, FromConcatenatesMixedText) {
  pugi::xml_document doc;
  const auto copy = xml_element::from(parse(doc, "<a>one<b/>two</a>"));
  EXPECT_EQ(copy.text(), "onetwo");
  EXPECT_EQ(copy.str(), "<a>onetwo<b/></a>");
}

// `xml` parsed, then written by write_node after `prefix` with the overrides.
std::string forwarded(const std::string& xml, std::string_view from, std::string_view to,
                      std::string prefix = {}) {
  pugi::xml_document doc;
  const auto root = parse(doc, xml);
  write_node(root, prefix, from, to);
  return prefix;
}

TEST(XmlWriteNode, WritesParsedNodeAsIs) {
  EXPECT_EQ(forwarded("<a x=\"1&amp;2\">one<b y='&lt;'/>two<![CDATA[&]]><!--c--><c/></a>", "", ""),
            "<a x='1&amp;2'>one<b y='&lt;'/>two&amp;<c/></a>");
}

TEST(XmlWriteNode, ReplacesFromAndAddsTo) {
  EXPECT_EQ(forwarded("<message from='liar@evil' id='s1'><body>hi</body></message>",
                      "1234@127.0.0.1/dev", "tail@iot.local/cli", "prefix:"),
            "prefix:<message from='1234@127.0.0.1/dev' id='s1' to='tail@iot.local/cli'>"
            "<body>hi</body></message>");
}

TEST(XmlWriteNode, ReplacesExistingToInPlaceAndAddsFrom) {
  EXPECT_EQ(forwarded("<presence to='iot.local' type='unavailable'/>", "a@b/c", "s@iot.local/t"),
            "<presence to='s@iot.local/t' type='unavailable' from='a@b/c'/>");
}

TEST(XmlWriteNode, OverridesOnlyTheTopElement) {
  EXPECT_EQ(forwarded("<m from='x'><inner from='keep' to='keep'/></m>", "new", "dest"),
            "<m from='new' to='dest'><inner from='keep' to='keep'/></m>");
}

TEST(XmlWriteNode, EmptyOverridesKeepAttributes) {
  EXPECT_EQ(forwarded("<m from='x' to='y'/>", "", ""), "<m from='x' to='y'/>");
}

TEST(XmlWriteNode, DuplicateFromWrittenOnce) {
  EXPECT_EQ(forwarded("<m from='a' from='b'/>", "c", ""), "<m from='c'/>");
}

TEST(XmlWriteNode, AgreesWithFromCopy) {
  const std::string xml =
      "<iq type='result' id='r1'><recommend xmlns='urn:iotxmpp:recommend:0' room='k&amp;b'>"
      "<target name='temperature' value='21' unit='\u00B0C' action='raise'/></recommend></iq>";
  pugi::xml_document doc;
  const auto root = parse(doc, xml);
  std::string direct;
  write_node(root, direct);
  EXPECT_EQ(direct, xml_element::from(root).str());
}

TEST(XmlEscape, AppendEscapedIsAttributeSafe) {
  std::string out = "v=";
  append_escaped(out, "a'b\n");
  EXPECT_EQ(out, "v=a&apos;b&#10;");
}

}  // namespace
}  // namespace iotxmpp
