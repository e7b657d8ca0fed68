// 02: the stanzas of PROTOCOL.md §3 over a real socket, checked in the store.

#include "wire/wire_fixture.hpp"

namespace iotxmpp::test {
namespace {

TEST(Wire02Report, StoredAndVisibleAfterPing) {
  test_server server;
  raw_client c("127.0.0.1", server.port());
  std::string jid = c.negotiate("dev");
  c.send(report("s-42"));
  ASSERT_TRUE(sync(c));
  auto db = open_test_store(server);
  auto latest = db->latest_report("kitchen");
  ASSERT_TRUE(latest.has_value());
  ASSERT_TRUE(latest->has_value());
  const status_report& r = **latest;
  EXPECT_EQ(r.device_jid, jid);
  EXPECT_EQ(r.stanza_id, "s-42");
  EXPECT_EQ(r.taken_at.offset_minutes, 60);
  EXPECT_EQ(r.value_of("temperature"), 21.5);
  EXPECT_EQ(r.value_of("humidity"), 40.2);
  EXPECT_EQ(r.value_of("brightness"), 310);
}

TEST(Wire02Report, ResendWithSameIdStoredOnceEvenOnAnotherConnection) {
  test_server server;
  {
    raw_client c("127.0.0.1", server.port());
    c.negotiate("a");
    c.send(report("boot1-1"));
    c.send(report("boot1-1"));
    c.send(report("boot1-2"));
    c.send(report(""));  // no id: stored each time
    c.send(report(""));
    ASSERT_TRUE(sync(c));
  }
  raw_client again("127.0.0.1", server.port());
  again.negotiate("b");
  again.send(report("boot1-1"));
  ASSERT_TRUE(sync(again));
  auto db = open_test_store(server);
  EXPECT_EQ(db->count_reports().value(), 4u);
}

TEST(Wire02Report, MalformedGetsBadRequestAndStreamStaysUp) {
  test_server server;
  raw_client c("127.0.0.1", server.port());
  c.negotiate();
  const std::string bad[] = {
      report("m1", ""),                                      // empty nodeId
      report("m2", "kitchen", "abc"),                        // not a number
      report("m3", "kitchen", "inf"),                        // not finite
      report("m4", "kitchen", "20", "2026-11-24T08:00:00"),  // no zone
      "<message id='m5' to='iot.local'><fields xmlns='urn:xmpp:iot:sensordata'><node nodeId='k'>"
      "<timestamp value='2026-11-24T08:00:00Z'/></node></fields></message>",  // no numeric
  };
  for (const auto& b : bad) {
    c.send(b);
    std::string id = b.substr(b.find("id='") + 4, 2);
    std::string got = c.read_until("</message>");
    EXPECT_NE(got.find("type='error'"), std::string::npos) << got;
    EXPECT_NE(got.find("id='" + id + "'"), std::string::npos) << got;
    EXPECT_NE(got.find("<bad-request xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"),
              std::string::npos)
        << got;
  }
  ASSERT_TRUE(sync(c));
  EXPECT_EQ(open_test_store(server)->count_reports().value(), 0u);
}

TEST(Wire02Presence, ShowAndStatusKept) {
  test_server server;
  raw_client c("127.0.0.1", server.port());
  std::string jid = c.negotiate("p");
  c.send("<presence><show>away</show><status>Coffee Break</status></presence>");
  ASSERT_TRUE(sync(c));
  auto devices = open_test_store(server)->devices(false);
  ASSERT_TRUE(devices.has_value());
  ASSERT_EQ(devices->size(), 1u);
  EXPECT_EQ((*devices)[0].jid, jid);
  EXPECT_EQ((*devices)[0].show, "away");
  EXPECT_EQ((*devices)[0].status, "Coffee Break");
  EXPECT_TRUE((*devices)[0].online);
  c.send("<presence type='unavailable'/>");
  ASSERT_TRUE(sync(c, "s2"));
  devices = open_test_store(server)->devices(true);
  ASSERT_TRUE(devices.has_value());
  EXPECT_TRUE(devices->empty());
}

TEST(Wire02Recommend, AnsweredFromLatestReportAndStored) {
  test_server server;
  raw_client c("127.0.0.1", server.port());
  std::string jid = c.negotiate();
  c.send(report("r-1", "kitchen", "15.0"));
  c.send(
      "<iq type='get' id='r1' to='iot.local'><recommend xmlns='urn:iotxmpp:recommend:0' "
      "room='kitchen'/></iq>");
  std::string got = c.read_until("</iq>");
  EXPECT_NE(got.find("type='result'"), std::string::npos) << got;
  EXPECT_NE(got.find("id='r1'"), std::string::npos) << got;
  EXPECT_NE(got.find("to='" + jid + "'"), std::string::npos) << got;
  EXPECT_NE(got.find("room='kitchen'"), std::string::npos) << got;
  EXPECT_NE(got.find("period='"), std::string::npos) << got;
  // The room reported at +01:00: the answer is written in that offset.
  EXPECT_NE(got.find("+01:00'"), std::string::npos) << got;
  EXPECT_NE(got.find("<target name='temperature'"), std::string::npos) << got;
  // 15 °C is below every default target.
  auto t = got.find("<target name='temperature'");
  EXPECT_NE(got.find("action='raise'", t), std::string::npos) << got;
  ASSERT_TRUE(sync(c));
  EXPECT_EQ(open_test_store(server)->count_recommendations().value(), 1u);
}

TEST(Wire02Recommend, UnknownRoomAllUnknownAndMissingRoomBadRequest) {
  test_server server;
  raw_client c("127.0.0.1", server.port());
  c.negotiate();
  c.send("<iq type='get' id='u1'><recommend xmlns='urn:iotxmpp:recommend:0' room='attic'/></iq>");
  std::string got = c.read_until("</iq>");
  EXPECT_NE(got.find("action='unknown'"), std::string::npos) << got;
  EXPECT_EQ(got.find("action='raise'"), std::string::npos) << got;
  EXPECT_EQ(got.find("action='hold'"), std::string::npos) << got;
  c.send("<iq type='get' id='u2'><recommend xmlns='urn:iotxmpp:recommend:0'/></iq>");
  got = c.read_until("</iq>");
  EXPECT_NE(got.find("<bad-request"), std::string::npos) << got;
  EXPECT_NE(got.find("id='u2'"), std::string::npos) << got;
}

TEST(Wire02Iq, PingDiscoVersionAndErrors) {
  test_server server;
  raw_client c("127.0.0.1", server.port());
  std::string jid = c.negotiate();
  c.send(ping("p1"));
  std::string got = c.read_until("id='p1'");
  EXPECT_NE(got.find("type='result'"), std::string::npos) << got;

  c.send(
      "<iq type='get' id='d1' to='iot.local'><query "
      "xmlns='http://jabber.org/protocol/disco#info'/></iq>");
  got = c.read_until("</iq>");
  for (const char* f : {"urn:xmpp:ping", "http://jabber.org/protocol/disco#info",
                        "http://jabber.org/protocol/disco#items", "jabber:iq:version",
                        "urn:iotxmpp:recommend:0", "urn:iotxmpp:feed:0", "urn:xmpp:iot:sensordata"})
    EXPECT_NE(got.find("var='" + std::string(f) + "'"), std::string::npos) << f << "\n" << got;
  EXPECT_NE(got.find("<identity"), std::string::npos) << got;

  c.send("<iq type='get' id='d2'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>");
  got = c.read_until("</iq>");
  // Named by the node holding it (PROTOCOL.md §3.4; test_server's node is the host name).
  EXPECT_NE(got.find("xmlns:cluster='urn:iotxmpp:cluster:0'"), std::string::npos) << got;
  EXPECT_NE(got.find("<item jid='" + jid + "' cluster:node='"), std::string::npos) << got;

  c.send("<iq type='get' id='v1'><query xmlns='jabber:iq:version'/></iq>");
  got = c.read_until("</iq>");
  EXPECT_NE(got.find("<name>iotxmpp</name>"), std::string::npos) << got;
  EXPECT_NE(got.find("<version>" IOTXMPP_VERSION "</version>"), std::string::npos) << got;

  c.send("<iq type='get'><ping xmlns='urn:xmpp:ping'/></iq>");  // no id
  got = c.read_until("</iq>");
  EXPECT_NE(got.find("<bad-request"), std::string::npos) << got;

  c.send("<iq type='get' id='x1'><query xmlns='urn:example:nothing'/></iq>");
  got = c.read_until("</iq>");
  EXPECT_NE(got.find("<service-unavailable"), std::string::npos) << got;
  EXPECT_NE(got.find("id='x1'"), std::string::npos) << got;

  c.send("<iq type='set' id='x2'><ping xmlns='urn:xmpp:ping'/></iq>");
  got = c.read_until("</iq>");
  EXPECT_NE(got.find("<feature-not-implemented"), std::string::npos) << got;
}

TEST(Wire02Iq, ClientFromIsOverwritten) {
  test_server server;
  raw_client c("127.0.0.1", server.port());
  std::string jid = c.negotiate();
  c.send("<message from='mallory@evil.example/x' " + report("f1").substr(9));
  ASSERT_TRUE(sync(c));
  auto latest = open_test_store(server)->latest_report("kitchen");
  ASSERT_TRUE(latest && *latest);
  EXPECT_EQ((*latest)->device_jid, jid);
}

TEST(Wire02Feed, SubscriberGetsReportsAndPresenceOfItsRoom) {
  test_server server;
  raw_client watcher("127.0.0.1", server.port());
  std::string watcher_jid = watcher.negotiate("w");
  watcher.send(
      "<iq type='set' id='f1'><subscribe xmlns='urn:iotxmpp:feed:0' room='kitchen'/></iq>");
  EXPECT_NE(watcher.read_until("id='f1'").find("type='result'"), std::string::npos);
  watcher.read_until("/>");

  raw_client device("127.0.0.1", server.port());
  std::string device_jid = device.negotiate("d");
  // The device's room is the room of its latest report: kitchen, when the
  // presence comes.
  device.send(report("o1", "office"));
  device.send(report("k1", "kitchen"));
  device.send("<presence><show>dnd</show></presence>");
  ASSERT_TRUE(sync(device));

  std::string got = watcher.read_until("</message>");
  EXPECT_NE(got.find("from='" + device_jid + "'"), std::string::npos) << got;
  EXPECT_NE(got.find("to='" + watcher_jid + "'"), std::string::npos) << got;
  EXPECT_NE(got.find("nodeId='kitchen'"), std::string::npos) << got;
  EXPECT_EQ(got.find("office"), std::string::npos) << "office report leaked: " << got;
  std::string presence = watcher.read_until("</presence>");
  EXPECT_NE(presence.find("<show>dnd</show>"), std::string::npos) << presence;
  EXPECT_EQ(presence.find("office"), std::string::npos) << "office report leaked: " << presence;

  watcher.send("<iq type='set' id='f2'><unsubscribe xmlns='urn:iotxmpp:feed:0'/></iq>");
  watcher.read_until("id='f2'");
  watcher.read_until("/>");
  device.send(report("k2", "kitchen"));
  ASSERT_TRUE(sync(device, "s2"));
  // Had k2 been forwarded, it would have been queued to the watcher's
  // session before the device's ping was answered, and a session sends in
  // order: it would come before the answer to the watcher's own ping.
  watcher.send(ping("w-after"));
  std::string after = watcher.read_until("id='w-after'");
  ASSERT_NE(after, "") << "no answer to the watcher's ping";
  EXPECT_EQ(after.find("<message"), std::string::npos) << "forwarded after unsubscribe: " << after;
}

}  // namespace
}  // namespace iotxmpp::test
