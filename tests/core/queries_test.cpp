// Client request builders and reply parsers, checked against what the
// server's own writers and parsers produce and accept.

#include <gtest/gtest.h>

#include "core/client/queries.hpp"
#include "core/iot/rules.hpp"
#include "core/iot/sensordata.hpp"
#include "core/model/datetime.hpp"

namespace iotxmpp {
namespace {

pugi::xml_node parse(pugi::xml_document& doc, const std::string& text) {
  EXPECT_TRUE(doc.load_string(text.c_str())) << text;
  return doc.document_element();
}

TEST(Queries, StatusMessageReadsBackAsTheReport) {
  status_report r;
  r.room = "kitchen & co";
  r.taken_at = *parse_datetime("2026-11-24T08:00:00+01:00");
  r.values = {{"temperature", 21.5, "°C"}, {"humidity", 40.2, "%"}, {"co2", 800, "ppm"}};
  std::string text = status_message(r, "iot.local", "s-1", 7);
  pugi::xml_document doc;
  auto message = parse(doc, text);
  EXPECT_STREQ(message.attribute("to").value(), "iot.local");
  EXPECT_STREQ(message.attribute("id").value(), "s-1");
  ASSERT_TRUE(is_status_report(message));
  auto back = parse_status_report(message, "1@h/r", {});
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->room, r.room);
  EXPECT_EQ(back->stanza_id, "s-1");
  EXPECT_EQ(back->taken_at.offset_minutes, 60);
  ASSERT_EQ(back->values.size(), 3u);
  EXPECT_EQ(back->value_of("co2"), 800);
  EXPECT_EQ(back->values[2].unit, "ppm");
}

TEST(Queries, PresenceStanzas) {
  EXPECT_EQ(presence_stanza(true, "", ""), "<presence/>");
  EXPECT_EQ(presence_stanza(false, "", ""), "<presence type='unavailable'/>");
  EXPECT_EQ(presence_stanza(true, "away", "a<b"),
            "<presence><show>away</show><status>a&lt;b</status></presence>");
}

TEST(Queries, RequestsNameTheirNamespaceAndTarget) {
  EXPECT_EQ(ping_request("iot.local", "p1").str(),
            "<iq type='get' id='p1' to='iot.local'><ping xmlns='urn:xmpp:ping'/></iq>");
  EXPECT_EQ(recommend_request("iot.local", "hall").str(),
            "<iq type='get' to='iot.local'><recommend xmlns='urn:iotxmpp:recommend:0' "
            "room='hall'/></iq>");
  EXPECT_EQ(subscribe_request("iot.local", "").str(),
            "<iq type='set' to='iot.local'><subscribe xmlns='urn:iotxmpp:feed:0'/></iq>");
  EXPECT_EQ(
      subscribe_request("iot.local", "hall").str(),
      "<iq type='set' to='iot.local'><subscribe xmlns='urn:iotxmpp:feed:0' room='hall'/></iq>");
  EXPECT_NE(disco_info_request("d").str().find("disco#info"), std::string::npos);
  EXPECT_NE(disco_items_request("d").str().find("disco#items"), std::string::npos);
  EXPECT_NE(version_request("d").str().find("jabber:iq:version"), std::string::npos);
  EXPECT_NE(unsubscribe_request("d").str().find("<unsubscribe xmlns='urn:iotxmpp:feed:0'/>"),
            std::string::npos);
}

TEST(Queries, ParsesTheServersRecommendPayload) {
  recommendation r;
  r.room = "kitchen";
  r.at = *parse_datetime("2026-11-24T08:00:03+01:00");
  r.period = "morning";
  r.targets = {{"temperature", 21, "°C", "raise"}, {"humidity", 45.5, "%", "hold"}};
  std::string text = "<iq type='result' id='r1'>";
  write_recommend_payload(r, text);
  text += "</iq>";
  pugi::xml_document doc;
  auto back = parse_recommendation(xml_element::from(parse(doc, text)));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->room, "kitchen");
  EXPECT_EQ(back->period, "morning");
  EXPECT_EQ(back->at.offset_minutes, 60);
  EXPECT_EQ(back->at.utc, r.at.utc);
  ASSERT_EQ(back->targets.size(), 2u);
  EXPECT_EQ(back->targets[1].value, 45.5);
  EXPECT_EQ(back->targets[1].action, "hold");
  EXPECT_EQ(back->targets[0].unit, "°C");

  EXPECT_FALSE(parse_recommendation(xml_element::from(parse(doc, "<iq type='result'/>"))));
  auto bad = parse_recommendation(xml_element::from(
      parse(doc,
            "<iq><recommend room='x' at='2026-11-24T08:00:03Z'><target name='t' value='hot'/>"
            "</recommend></iq>")));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, error_kind::protocol);
}

TEST(Queries, ParsesDiscoAndVersionReplies) {
  pugi::xml_document doc;
  auto items = parse_items(xml_element::from(
      parse(doc,
            "<iq><query xmlns='http://jabber.org/protocol/disco#items'><item jid='a@b/c'/>"
            "<item jid='d@e/f'/></query></iq>")));
  EXPECT_EQ(items, (std::vector<std::string>{"a@b/c", "d@e/f"}));
  auto info = parse_info(xml_element::from(
      parse(doc,
            "<iq><query><identity category='server' type='im' name='x'/><feature var='f1'/>"
            "<feature var='f2'/></query></iq>")));
  ASSERT_EQ(info.identities.size(), 1u);
  EXPECT_EQ(info.identities[0].type, "im");
  EXPECT_EQ(info.features, (std::vector<std::string>{"f1", "f2"}));
  auto v = parse_version(xml_element::from(
      parse(doc, "<iq><query><name>iotxmpp</name><version>1.2</version></query></iq>")));
  EXPECT_EQ(v.name, "iotxmpp");
  EXPECT_EQ(v.version, "1.2");
  EXPECT_EQ(v.os, "");
}

TEST(Queries, FeedEvents) {
  pugi::xml_document doc;
  auto p = parse_feed_event(
      parse(doc, "<presence from='1@h/r' type='unavailable'><status>bye</status></presence>"), {});
  ASSERT_TRUE(p);
  EXPECT_EQ(p->what, feed_event::kind::presence);
  EXPECT_EQ(p->presence.device_jid, "1@h/r");
  EXPECT_FALSE(p->presence.online);
  EXPECT_EQ(p->presence.status, "bye");

  status_report r;
  r.room = "hall";
  r.taken_at = *parse_datetime("2026-11-24T08:00:00Z");
  r.values = {{"temperature", 20, ""}};
  std::string m = status_message(r, "iot.local", "x", 1);
  m.insert(8, " from='2@h/r'");
  auto report = parse_feed_event(parse(doc, m), {});
  ASSERT_TRUE(report) << m;
  EXPECT_EQ(report->what, feed_event::kind::report);
  EXPECT_EQ(report->report.device_jid, "2@h/r");
  EXPECT_EQ(report->report.room, "hall");

  EXPECT_FALSE(parse_feed_event(parse(doc, "<message><body>hi</body></message>"), {}));
  EXPECT_FALSE(parse_feed_event(parse(doc, "<iq type='result'/>"), {}));
}

}  // namespace
}  // namespace iotxmpp
