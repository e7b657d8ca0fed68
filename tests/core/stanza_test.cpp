// Stream headers, stream and stanza errors, replies and stanza builders.

#include "core/xmpp/stanza.hpp"

#include <gtest/gtest.h>
#include <pugixml.hpp>

#include <string>
#include <unordered_set>

namespace iotxmpp {
namespace {

TEST(StanzaStreamHeader, WithoutTo) {
  EXPECT_EQ(stream_open_text("iot.local", "abc123"),
            "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
            "xmlns:stream='http://etherx.jabber.org/streams' from='iot.local' id='abc123' "
            "version='1.0' xml:lang='en'>");
}

TEST(StanzaStreamHeader, WithToEscaped) {
  EXPECT_EQ(stream_open_text("iot.local", "i", "a'b"),
            "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
            "xmlns:stream='http://etherx.jabber.org/streams' from='iot.local' id='i' "
            "version='1.0' to='a&apos;b' xml:lang='en'>");
}

TEST(StanzaStreamId, HexOf128BitsAndUnique) {
  std::unordered_set<std::string> seen;
  for (int i = 0; i < 10000; ++i) {
    std::string id = new_stream_id();
    ASSERT_EQ(id.size(), 32u);
    ASSERT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
    ASSERT_TRUE(seen.insert(std::move(id)).second) << "repeated after " << i;
  }
}

TEST(StanzaStreamError, ConditionOnly) {
  EXPECT_EQ(stream_error(stream_condition::not_well_formed),
            "<stream:error><not-well-formed xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
            "</stream:error></stream:stream>");
}

TEST(StanzaStreamError, WithText) {
  EXPECT_EQ(stream_error(stream_condition::system_shutdown, "bye & see you"),
            "<stream:error><system-shutdown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
            "<text xmlns='urn:ietf:params:xml:ns:xmpp-streams' xml:lang='en'>bye &amp; see you"
            "</text></stream:error></stream:stream>");
}

TEST(StanzaStreamError, WithTextAndApplicationCondition) {
  xml_element too_big("stanza-too-big");
  too_big.set("xmlns", ns::errors);
  EXPECT_EQ(stream_error(stream_condition::policy_violation, "max 65536 bytes", &too_big),
            "<stream:error><policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
            "<text xmlns='urn:ietf:params:xml:ns:xmpp-streams' xml:lang='en'>max 65536 bytes"
            "</text><stanza-too-big xmlns='urn:xmpp:errors'/></stream:error></stream:stream>");
}

TEST(StanzaStreamError, IsWellFormedAfterAHeader) {
  const std::string xml = stream_open_text("iot.local", new_stream_id()) +
                          stream_error(stream_condition::conflict, "<replaced>");
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(xml.c_str()));
  const auto error = doc.child("stream:stream").child("stream:error");
  EXPECT_TRUE(error.child("conflict"));
  EXPECT_STREQ(error.child("text").text().get(), "<replaced>");
}

TEST(StanzaError, TypeFollowsCondition) {
  EXPECT_EQ(stanza_error(stanza_condition::bad_request).str(),
            "<error type='modify'><bad-request xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
            "</error>");
  EXPECT_EQ(stanza_error(stanza_condition::service_unavailable, "no such thing").str(),
            "<error type='cancel'><service-unavailable "
            "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text "
            "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas' xml:lang='en'>no such thing</text>"
            "</error>");
  EXPECT_EQ(stanza_error(stanza_condition::resource_constraint).get("type"), "wait");
}

TEST(StanzaErrorReply, KeepsIdSwapsAddressesDropsPayload) {
  pugi::xml_document doc;
  ASSERT_TRUE(
      doc.load_string("<iq type='get' id='r1' from='5000@127.0.0.1/d' to='iot.local'>"
                      "<recommend xmlns='urn:iotxmpp:recommend:0'/></iq>"));
  const auto request = doc.document_element();
  const auto reply =
      error_reply(request, stanza_condition::bad_request, request.attribute("to").value(),
                  request.attribute("from").value(), "room missing");
  EXPECT_EQ(reply.str(),
            "<iq type='error' id='r1' from='iot.local' to='5000@127.0.0.1/d'>"
            "<error type='modify'><bad-request xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
            "<text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas' xml:lang='en'>room missing</text>"
            "</error></iq>");
}

TEST(StanzaErrorReply, MessageWithoutIdOrAddresses) {
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string("<message><fields xmlns='urn:xmpp:iot:sensordata'/></message>"));
  EXPECT_EQ(error_reply(doc.document_element(), stanza_condition::bad_request, "", "").str(),
            "<message type='error'><error type='modify'>"
            "<bad-request xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>");
}

TEST(StanzaBuilders, IqResult) {
  EXPECT_EQ(iq_result("p1", "iot.local", "1@[::1]/x").str(),
            "<iq type='result' id='p1' from='iot.local' to='1@[::1]/x'/>");
  auto r = iq_result("v", "iot.local", "");
  r.add_child("query").set("xmlns", ns::version);
  EXPECT_EQ(r.str(),
            "<iq type='result' id='v' from='iot.local'><query xmlns='jabber:iq:version'/></iq>");
}

TEST(StanzaBuilders, MessagePresenceIq) {
  EXPECT_EQ(message("iot.local", "s-42").str(), "<message to='iot.local' id='s-42'/>");
  EXPECT_EQ(message("", "", "error").str(), "<message type='error'/>");
  EXPECT_EQ(presence().str(), "<presence/>");
  EXPECT_EQ(presence("unavailable").str(), "<presence type='unavailable'/>");
  EXPECT_EQ(iq("get", "r1", "iot.local").str(), "<iq type='get' id='r1' to='iot.local'/>");
  EXPECT_EQ(iq("set", "b1").str(), "<iq type='set' id='b1'/>");
}

}  // namespace
}  // namespace iotxmpp
