// stream_framer: headers, stanzas, keepalives, limits, reset, splitting at
// any byte, and memory that stays bounded however much goes through.

#include "core/xml/stream_framer.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <string>

#include "support/framer_events.hpp"

namespace iotxmpp {
namespace {

using status = stream_framer::status;
using test::client_header;

// Feeds `input` once and expects `what` with everything consumed.
void expect_feed(stream_framer& framer, std::string_view input, status what) {
  const auto o = framer.feed(input);
  EXPECT_EQ(o.what, what) << input << " -> " << framer.error_text();
  EXPECT_EQ(o.consumed, input.size()) << input;
}

TEST(StreamFramerHeader, WithDeclarationAndSingleQuotes) {
  stream_framer framer;
  expect_feed(framer, client_header, status::stream_open);
  EXPECT_EQ(framer.header().name, "stream:stream");
  EXPECT_EQ(framer.header().attribute("to"), "iot.local");
  EXPECT_EQ(framer.header().attribute("version"), "1.0");
  EXPECT_EQ(framer.header().attribute("xmlns"), "jabber:client");
  EXPECT_EQ(framer.header().attribute("from"), "");
  ASSERT_EQ(framer.header().attributes.size(), 4u);
  EXPECT_EQ(framer.header().attributes[0].first, "xmlns");
}

TEST(StreamFramerHeader, WithoutDeclarationAndDoubleQuotes) {
  stream_framer framer;
  expect_feed(framer,
              "<stream:stream xmlns=\"jabber:client\" "
              "xmlns:stream=\"http://etherx.jabber.org/streams\" to=\"iot.local\" "
              "version=\"1.0\">",
              status::stream_open);
  EXPECT_EQ(framer.header().attribute("to"), "iot.local");
}

TEST(StreamFramerHeader, DeclarationWithEncodingAndStandalone) {
  stream_framer framer;
  expect_feed(framer,
              "<?xml version=\"1.0\" encoding='utf-8' standalone='yes' ?>\n"
              "<stream:stream xmlns='jabber:client' "
              "xmlns:stream='http://etherx.jabber.org/streams'>",
              status::stream_open);
}

TEST(StreamFramerHeader, OtherPrefixAndEntitiesInAttributes) {
  stream_framer framer;
  expect_feed(framer,
              "<s:stream xmlns:s='http://etherx.jabber.org/streams' xmlns='jabber:client' "
              "to='a&amp;b&#x41;' from='x&apos;&quot;'>",
              status::stream_open);
  EXPECT_EQ(framer.header().name, "s:stream");
  EXPECT_EQ(framer.header().attribute("to"), "a&bA");
  EXPECT_EQ(framer.header().attribute("from"), "x'\"");
}

TEST(StreamFramerHeader, LeadingWhitespaceIsAllowed) {
  stream_framer framer;
  expect_feed(framer, "\r\n  ", status::need_more);
  expect_feed(framer, client_header.substr(21), status::stream_open);  // without the declaration
}

TEST(StreamFramerHeader, WrongNamespacesAreInvalidNamespace) {
  const char* const bad[] = {
      "<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams'>",
      "<stream:stream xmlns:stream='http://etherx.jabber.org/streams'>",
      "<stream:stream xmlns='jabber:client' xmlns:stream='http://example.com/streams'>",
      "<stream:stream xmlns='jabber:client' xmlns:s='http://etherx.jabber.org/streams'>",
      "<stream xmlns='http://etherx.jabber.org/streams'>",
      "<stream xmlns='jabber:client'>",
      "<stream:streams xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>",
      "<message xmlns='jabber:client'/>",
      "<?xml version='1.0'?><html>",
  };
  for (const char* h : bad) {
    EXPECT_TRUE(test::last_event(h).starts_with("error invalid-namespace")) << h;
  }
}

TEST(StreamFramerHeader, EmptyHeaderOpensThenCloses) {
  const auto e = test::frame_whole(
      "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'/>");
  ASSERT_EQ(e.size(), 2u);
  EXPECT_TRUE(e[0].starts_with("open stream:stream")) << e[0];
  EXPECT_EQ(e[1], "close");
}

TEST(StreamFramerElements, StatusReportIsParsed) {
  stream_framer framer;
  expect_feed(framer, client_header, status::stream_open);
  const std::string report = test::status_report(42);
  expect_feed(framer, report, status::element);
  EXPECT_EQ(framer.element_size(), report.size());
  const pugi::xml_node m = framer.element();
  EXPECT_STREQ(m.name(), "message");
  EXPECT_STREQ(m.attribute("id").value(), "s-42");
  const pugi::xml_node fields = m.child("fields");
  EXPECT_STREQ(fields.attribute("xmlns").value(), "urn:xmpp:iot:sensordata");
  const pugi::xml_node numeric = fields.child("node").child("timestamp").child("numeric");
  EXPECT_STREQ(numeric.attribute("unit").value(), "\u00b0C");
  EXPECT_STREQ(numeric.next_sibling().attribute("name").value(), "humidity");
}

TEST(StreamFramerElements, WhitespaceKeepaliveIsConsumed) {
  stream_framer framer;
  expect_feed(framer, client_header, status::stream_open);
  expect_feed(framer, " ", status::need_more);
  expect_feed(framer, "\n\t\r ", status::need_more);
  expect_feed(framer, "", status::need_more);
  expect_feed(framer, " <presence/>", status::element);
  EXPECT_EQ(framer.element_size(), 11u);
}

TEST(StreamFramerElements, StopsAfterEachEventInOneRead) {
  stream_framer framer;
  const std::string read = std::string(client_header) + "<presence/> <r xmlns='urn:xmpp:sm:3'/>";
  auto o = framer.feed(read);
  EXPECT_EQ(o.what, status::stream_open);
  EXPECT_EQ(o.consumed, client_header.size());
  std::string_view rest = std::string_view(read).substr(o.consumed);
  o = framer.feed(rest);
  EXPECT_EQ(o.what, status::element);
  EXPECT_EQ(o.consumed, 11u);
  EXPECT_STREQ(framer.element().name(), "presence");
  rest.remove_prefix(o.consumed);
  o = framer.feed(rest);
  EXPECT_EQ(o.what, status::element);
  EXPECT_EQ(o.consumed, rest.size());
  EXPECT_STREQ(framer.element().name(), "r");
  EXPECT_EQ(framer.element_size(), rest.size() - 1);
}

TEST(StreamFramerElements, EntitiesDecodedInTextAndAttributes) {
  stream_framer framer;
  expect_feed(framer, client_header, status::stream_open);
  expect_feed(framer,
              "<message id='a&lt;&#x41;&#66;&gt;' to=\"&quot;&apos;&amp;\">"
              "<body>&amp;&gt;&lt;&quot;&apos;&#233;&#x1F600;</body></message>",
              status::element);
  EXPECT_STREQ(framer.element().attribute("id").value(), "a<AB>");
  EXPECT_STREQ(framer.element().attribute("to").value(), "\"'&");
  EXPECT_STREQ(framer.element().child_value("body"), "&><\"'\u00e9\U0001F600");
}

TEST(StreamFramerElements, CdataSectionsKeepMarkupCharacters) {
  stream_framer framer;
  expect_feed(framer, client_header, status::stream_open);
  expect_feed(framer, "<message><body><![CDATA[<not a='tag'> & ]] ]> ]]]></body></message>",
              status::element);
  EXPECT_STREQ(framer.element().child_value("body"), "<not a='tag'> & ]] ]> ]");
}

TEST(StreamFramerElements, MarkupCharactersThatNeedNoEscaping) {
  stream_framer framer;
  expect_feed(framer, client_header, status::stream_open);
  expect_feed(framer, "<body a='>' b=\"'\" c='\"'>1 > 0 ] ]] x</body>", status::element);
  EXPECT_STREQ(framer.element().child_value(), "1 > 0 ] ]] x");
  EXPECT_STREQ(framer.element().attribute("b").value(), "'");
}

TEST(StreamFramerElements, NestingNamesAndWhitespaceInTags) {
  stream_framer framer;
  expect_feed(framer, client_header, status::stream_open);
  expect_feed(framer, "<a\n x = 'y'\t><a><a/></a ><b:c.d-e_f/></a\n>", status::element);
  EXPECT_STREQ(framer.element().child("a").child("a").name(), "a");
  EXPECT_STREQ(framer.element().attribute("x").value(), "y");
  expect_feed(framer, "<m\xc3\xa4ssage \xe6\x97\xa5='1'/>", status::element);
  EXPECT_STREQ(framer.element().name(), "m\xc3\xa4ssage");
}

TEST(StreamFramerElements, StreamCloseEndsTheStream) {
  stream_framer framer;
  expect_feed(framer, client_header, status::stream_open);
  expect_feed(framer, "</stream:stream\n>", status::stream_close);
  expect_feed(framer, "\n", status::need_more);  // whitespace after the end is harmless
}

TEST(StreamFramerReset, NewHeaderAfterReset) {
  stream_framer framer;
  expect_feed(framer, client_header, status::stream_open);
  expect_feed(framer, "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='ANONYMOUS'/>",
              status::element);
  framer.reset();
  EXPECT_EQ(framer.header().name, "");
  const std::string second =
      "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
      "xmlns:stream='http://etherx.jabber.org/streams' to='other' version='1.0'>";
  expect_feed(framer, second, status::stream_open);
  EXPECT_EQ(framer.header().attribute("to"), "other");
  expect_feed(framer, "<iq type='set' id='b'/>", status::element);
  expect_feed(framer, "</stream:stream>", status::stream_close);
}

TEST(StreamFramerReset, ResetClearsAnError) {
  stream_framer framer;
  EXPECT_EQ(framer.feed("junk").what, status::error);
  framer.reset();
  expect_feed(framer, client_header, status::stream_open);
}

TEST(StreamFramerReset, ResetInsideAStanzaDropsIt) {
  stream_framer framer;
  expect_feed(framer, client_header, status::stream_open);
  expect_feed(framer, "<message><bo", status::need_more);
  framer.reset();
  expect_feed(framer, client_header, status::stream_open);
  expect_feed(framer, "<presence/>", status::element);
}

TEST(StreamFramerLimits, LimitsAreConfigurable) {
  stream_framer framer({.max_stanza_bytes = 100, .max_depth = 3});
  EXPECT_EQ(framer.limits().max_stanza_bytes, 100u);
  EXPECT_EQ(framer.limits().max_depth, 3u);
  EXPECT_EQ(stream_framer().limits().max_stanza_bytes, 65536u);
  EXPECT_EQ(stream_framer().limits().max_depth, 32u);
}

std::string stanza_of_size(std::size_t size) {
  const std::string open = "<message><body>", close = "</body></message>";
  return open + std::string(size - open.size() - close.size(), 'x') + close;
}

TEST(StreamFramerLimits, StanzaAtTheLimitIsAccepted) {
  const framer_limits limits{.max_stanza_bytes = 200};
  const std::string header(client_header.substr(21));  // 140 bytes, within 200
  const auto e = test::frame_whole(header + stanza_of_size(200), limits);
  ASSERT_EQ(e.size(), 2u);
  EXPECT_TRUE(e[1].starts_with("element 200 ")) << e[1];
  EXPECT_EQ(e, test::frame_bytewise(header + stanza_of_size(200), limits));
}

TEST(StreamFramerLimits, StanzaOverTheLimitIsPolicyViolation) {
  stream_framer framer({.max_stanza_bytes = 100});
  // The limit also bounds the header: send one that fits.
  const std::string header =
      "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>";
  ASSERT_LE(header.size(), 100u);
  expect_feed(framer, header, status::stream_open);
  expect_feed(framer, stanza_of_size(100), status::element);
  const auto o = framer.feed(stanza_of_size(101));
  EXPECT_EQ(o.what, status::error);
  EXPECT_EQ(o.consumed, 100u);
  EXPECT_EQ(framer.error_condition(), stream_condition::policy_violation);
  EXPECT_EQ(framer.error_text(), "stanza too big");
  EXPECT_TRUE(framer.too_big());
}

TEST(StreamFramerLimits, TooBigIsDetectedBeforeTheElementEnds) {
  stream_framer framer;
  expect_feed(framer, client_header, status::stream_open);
  const std::string chunk(4096, 'x');
  expect_feed(framer, "<message><body>", status::need_more);
  std::size_t sent = 15;
  while (sent + chunk.size() <= 65536) {
    expect_feed(framer, chunk, status::need_more);
    sent += chunk.size();
  }
  const auto o = framer.feed(chunk);  // the stanza would pass 64 KiB in this chunk
  EXPECT_EQ(o.what, status::error);
  EXPECT_EQ(sent + o.consumed, 65536u);
  EXPECT_TRUE(framer.too_big());
  EXPECT_LE(framer.buffered_capacity(), 65537u);
}

TEST(StreamFramerLimits, HeaderOverTheLimitIsPolicyViolation) {
  EXPECT_TRUE(test::last_event(client_header, {.max_stanza_bytes = 50})
                  .starts_with("error policy-violation: stanza too big"));
}

std::string nested(std::size_t depth) {
  std::string open, close;
  for (std::size_t i = 0; i < depth; ++i) {
    open += "<e" + std::to_string(i) + ">";
    close = "</e" + std::to_string(i) + ">" + close;
  }
  return open + "x" + close;
}

TEST(StreamFramerLimits, DepthAtTheLimitIsAccepted) {
  const std::string stream = std::string(client_header) + nested(32);
  EXPECT_TRUE(test::last_event(stream).starts_with("element ")) << test::last_event(stream);
  EXPECT_TRUE(test::last_event(std::string(client_header) + nested(3), {.max_depth = 3})
                  .starts_with("element "));
}

TEST(StreamFramerLimits, DepthOverTheLimitIsPolicyViolation) {
  const std::string stream = std::string(client_header) + nested(33);
  EXPECT_EQ(test::last_event(stream), "error policy-violation: too deep");
  EXPECT_EQ(test::frame_bytewise(stream).back(), "error policy-violation: too deep");
  EXPECT_EQ(test::last_event(std::string(client_header) + nested(4), {.max_depth = 3}),
            "error policy-violation: too deep");
  stream_framer framer;
  framer.feed(client_header);
  EXPECT_EQ(framer.feed(nested(33)).what, status::error);
  EXPECT_FALSE(framer.too_big());
}

TEST(StreamFramerLimits, LargeStanzaByteByByteIsLinear) {
  stream_framer framer;
  expect_feed(framer, client_header, status::stream_open);
  const std::string stanza = stanza_of_size(60 * 1024);
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i + 1 < stanza.size(); ++i) {
    ASSERT_EQ(framer.feed(std::string_view(stanza).substr(i, 1)).what, status::need_more);
  }
  ASSERT_EQ(framer.feed(std::string_view(stanza).substr(stanza.size() - 1)).what, status::element);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(framer.element_size(), stanza.size());
  // Linear work is about a millisecond; rescanning the buffer on each byte
  // would be ~2·10⁹ byte visits, tens of seconds.
  EXPECT_LT(elapsed, std::chrono::milliseconds(500));
}

// A stream that exercises every construct the framer accepts.
std::string varied_stream() {
  std::string s(client_header);
  s += "\n ";
  for (int i = 0; i < 20; ++i) {
    s += test::status_report(static_cast<std::uint64_t>(i));
    s += "<iq type='get' id='r" + std::to_string(i) +
         "' to='iot.local'><recommend xmlns='urn:iotxmpp:recommend:0' room=\"k&amp;\xc3\xa9\"/>"
         "</iq>  \n";
    s += "<message><body>caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 &#x1F600;&#233;&lt;&gt;"
         "</body><x><![CDATA[<a>&]] ]]]></x></message>\t";
    s += "<presence/><r xmlns='urn:xmpp:sm:3'/><a xmlns='urn:xmpp:sm:3' h='" + std::to_string(i) +
         "'/>";
  }
  s += "</stream:stream>";
  return s;
}

TEST(StreamFramerSplit, ByteByByteEqualsWhole) {
  const std::string stream = varied_stream();
  const auto whole = test::frame_whole(stream);
  ASSERT_EQ(whole.size(), 1u + 20 * 6 + 1);
  EXPECT_EQ(whole.back(), "close");
  EXPECT_EQ(test::frame_bytewise(stream), whole);
}

TEST(StreamFramerSplit, RandomSplitsEqualWhole) {
  const std::string stream = varied_stream();
  const auto whole = test::frame_whole(stream);
  std::mt19937 random(20261124);
  for (int iteration = 0; iteration < 300; ++iteration) {
    std::vector<std::size_t> cuts;
    std::uniform_int_distribution<std::size_t> step(1, iteration % 2 ? 8 : 700);
    for (std::size_t at = step(random); at < stream.size(); at += step(random)) cuts.push_back(at);
    ASSERT_EQ(test::frame_cut(stream, cuts), whole) << "iteration " << iteration;
  }
}

TEST(StreamFramerSplit, ErrorsAreFoundAtAnySplit) {
  const std::string good = std::string(client_header) + test::status_report(1);
  for (const char* tail :
       {"<a>&nbsp;</a>", "<a>\xed\xa0\x80</a>", "<a></b>", "<!-- x -->", "<a b='1' b='2'/>"}) {
    const std::string stream = good + tail;
    const auto whole = test::frame_whole(stream);
    ASSERT_TRUE(whole.back().starts_with("error ")) << tail;
    std::mt19937 random(7);
    for (int iteration = 0; iteration < 50; ++iteration) {
      std::vector<std::size_t> cuts;
      std::uniform_int_distribution<std::size_t> step(1, 40);
      for (std::size_t at = step(random); at < stream.size(); at += step(random)) {
        cuts.push_back(at);
      }
      ASSERT_EQ(test::frame_cut(stream, cuts), whole) << tail;
    }
  }
}

TEST(StreamFramerMemory, LargeStanzaCapacityIsReleased) {
  stream_framer framer;
  expect_feed(framer, client_header, status::stream_open);
  expect_feed(framer, stanza_of_size(60000), status::element);
  EXPECT_GE(framer.buffered_capacity(), 60000u);
  expect_feed(framer, "<presence/>", status::element);
  EXPECT_LE(framer.buffered_capacity(), 8u * 1024);
}

TEST(StreamFramerMemory, IdleStreamParksAndGoesOn) {
  stream_framer framer;
  EXPECT_FALSE(framer.parked());
  framer.trim();
  EXPECT_FALSE(framer.parked());  // no stream open yet: nothing to park in
  expect_feed(framer, "<s:stream xmlns='jabber:client' xmlns:s='http://etherx.jabber.org/streams'>",
              status::stream_open);
  framer.trim();
  EXPECT_TRUE(framer.parked());
  EXPECT_EQ(framer.buffered_capacity(), 0u);
  expect_feed(framer, "<presence/>", status::element);
  EXPECT_EQ(framer.element().name(), std::string("presence"));
  EXPECT_FALSE(framer.parked());
  // Inside a stanza the state must stay.
  expect_feed(framer, "<message><body>half", status::need_more);
  framer.trim();
  EXPECT_FALSE(framer.parked());
  expect_feed(framer, "</body></message>", status::element);
  framer.trim();
  EXPECT_TRUE(framer.parked());
  // The parked stream keeps its name: the close tag must match the prefix.
  expect_feed(framer, "</s:stream>", status::stream_close);
}

TEST(StreamFramerMemory, ParkedStreamRejectsAMismatchedClose) {
  stream_framer framer;
  expect_feed(framer, "<s:stream xmlns='jabber:client' xmlns:s='http://etherx.jabber.org/streams'>",
              status::stream_open);
  framer.trim();
  ASSERT_TRUE(framer.parked());
  EXPECT_EQ(framer.feed("</stream:stream>").what, status::error);
  EXPECT_EQ(framer.error_condition(), stream_condition::not_well_formed);
  framer.trim();
  EXPECT_FALSE(framer.parked());  // an error stays until reset()
  EXPECT_EQ(framer.feed("<a/>").what, status::error);
}

TEST(StreamFramerMemory, SixtyFourMebibytesStayWithinTheLimit) {
  const framer_limits limits;
  stream_framer framer(limits);
  expect_feed(framer, client_header, status::stream_open);
  std::mt19937 random(64);
  std::uniform_int_distribution<std::size_t> chunk_size(1, 8192);
  const std::string big = stanza_of_size(limits.max_stanza_bytes);
  std::string pending;
  std::size_t total = 0, stanzas = 0, expected = 0, max_capacity = 0;
  std::uint64_t seqnr = 0;
  while (total < (std::size_t{64} << 20)) {
    // Generated on the fly; every 500th stanza is exactly at the limit.
    while (pending.size() < 8192) {
      pending += ++seqnr % 500 == 0 ? big : test::status_report(seqnr);
      pending += ' ';
      ++expected;
    }
    std::string_view chunk = std::string_view(pending).substr(0, chunk_size(random));
    total += chunk.size();
    for (;;) {
      const auto o = framer.feed(chunk);
      ASSERT_NE(o.what, status::error) << framer.error_text();
      max_capacity = std::max(max_capacity, framer.buffered_capacity());
      chunk.remove_prefix(o.consumed);
      if (o.what == status::need_more) break;
      ++stanzas;
    }
    pending.erase(
        0, std::min(pending.size(), static_cast<std::size_t>(chunk.data() - pending.data())));
  }
  for (std::string_view rest = pending; !rest.empty();) {
    const auto o = framer.feed(rest);
    rest.remove_prefix(o.consumed);
    if (o.what == status::element) ++stanzas;
  }
  EXPECT_EQ(stanzas, expected);
  EXPECT_GT(stanzas, 100000u);
  EXPECT_GE(max_capacity, limits.max_stanza_bytes);  // the big stanzas did go through
  EXPECT_LE(max_capacity, limits.max_stanza_bytes + 64);
}

}  // namespace
}  // namespace iotxmpp

namespace iotxmpp {
namespace {

// After STARTTLS or SASL success the client opens a new stream; a newline
// it sent after its last element of the old stream may come first.
TEST(StreamFramerRestart, WhitespaceMayPrecedeTheDeclarationOfARestartedStream) {
  const std::string header =
      "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
      "to='iot.local' version='1.0'>";
  stream_framer framer;
  std::string_view first = header;
  ASSERT_EQ(framer.feed(first).what, stream_framer::status::stream_open);
  framer.reset();
  std::string again = "\n <?xml version='1.0'?>" + header;
  std::string_view rest = again;
  stream_framer::status last = stream_framer::status::need_more;
  while (!rest.empty() && last == stream_framer::status::need_more) {
    auto o = framer.feed(rest);
    rest.remove_prefix(o.consumed);
    last = o.what;
  }
  EXPECT_EQ(last, stream_framer::status::stream_open) << framer.error_text();
}

}  // namespace
}  // namespace iotxmpp
