// The stanza handlers without sockets: a real hub over a real SQLite store,
// fake peers that record what is delivered to them.

#include "core/server/stanza_handlers.hpp"

#include <gtest/gtest.h>

#include "support/test_server.hpp"

namespace iotxmpp {
namespace {

sys_micros at(int64_t seconds) { return sys_micros(std::chrono::seconds(seconds)); }

class recording_peer : public peer {
 public:
  explicit recording_peer(std::string jid) : jid_(*jid::parse(jid)) {}
  const jid& address() const override { return jid_; }
  void deliver(std::string bytes) override { delivered.push_back(std::move(bytes)); }
  void close(stream_condition c, std::string) override { closed = c; }
  std::vector<std::string> delivered;
  std::optional<stream_condition> closed;

 private:
  jid jid_;
};

struct parsed {
  pugi::xml_document doc;
  pugi::xml_node node;
  explicit parsed(const std::string& xml) {
    EXPECT_TRUE(doc.load_string(xml.c_str())) << xml;
    node = doc.first_child();
  }
};

class StanzaHandlers : public ::testing::Test {
 protected:
  StanzaHandlers()
      : url_("sqlite:" + dir_.path() + "/h.db"),
        writer_([this] { return open_store(url_); }),
        hub_(server_config{}, rules::defaults(), writer_, nullptr) {
    (void)open_store(url_).value()->migrate();
    device_ = std::make_shared<recording_peer>("5000@127.0.0.1/dev");
    sender_.address = device_->address();
    sender_.self = device_;
  }

  handled handle(const std::string& xml, sys_micros now = at(1'790'000'000)) {
    parsed p(xml);
    return handle_stanza(p.node, sender_, hub_, now);
  }

  static std::string report(std::string_view id, std::string_view room, std::string_view temp) {
    return "<message to='iot.local' id='" + std::string(id) +
           "'><fields xmlns='urn:xmpp:iot:sensordata' seqnr='1' done='true'><node nodeId='" +
           std::string(room) +
           "'><timestamp value='2026-11-24T08:00:00+01:00'><numeric name='temperature' value='" +
           std::string(temp) + "' unit='°C'/></timestamp></node></fields></message>";
  }

  test::temp_dir dir_;
  std::string url_;
  store_writer writer_;
  hub hub_;
  std::shared_ptr<recording_peer> device_;
  sender_state sender_;
};

TEST_F(StanzaHandlers, ReportIsQueuedWithARoomTouchAndRemembered) {
  handled h = handle(report("a1", "kitchen", "19"));
  EXPECT_TRUE(h.reply.empty());
  ASSERT_EQ(h.writes.size(), 2u);
  ASSERT_TRUE(std::holds_alternative<device_touch>(h.writes[0]));
  EXPECT_EQ(std::get<device_touch>(h.writes[0]).room, "kitchen");
  ASSERT_TRUE(std::holds_alternative<status_report>(h.writes[1]));
  const auto& r = std::get<status_report>(h.writes[1]);
  EXPECT_EQ(r.device_jid, "5000@127.0.0.1/dev");
  EXPECT_EQ(r.stanza_id, "a1");
  EXPECT_EQ(sender_.room, "kitchen");
  ASSERT_TRUE(hub_.latest("kitchen"));
  EXPECT_EQ(hub_.latest("kitchen")->value_of("temperature"), 19.0);
  // Same room again: no second touch.
  EXPECT_EQ(handle(report("a2", "kitchen", "20")).writes.size(), 1u);
}

TEST_F(StanzaHandlers, MalformedReportGetsBadRequestAndNothingQueued) {
  handled h = handle(report("bad", "kitchen", "warm"));
  EXPECT_TRUE(h.writes.empty());
  EXPECT_NE(h.reply.find("type='error'"), std::string::npos) << h.reply;
  EXPECT_NE(h.reply.find("id='bad'"), std::string::npos) << h.reply;
  EXPECT_NE(h.reply.find("<bad-request"), std::string::npos) << h.reply;
  EXPECT_FALSE(hub_.latest("kitchen"));
}

TEST_F(StanzaHandlers, PingWaitsForCommits) {
  handled h = handle("<iq type='get' id='p'><ping xmlns='urn:xmpp:ping'/></iq>");
  EXPECT_TRUE(h.reply_after_commit);
  EXPECT_NE(h.reply.find("type='result'"), std::string::npos);
}

TEST_F(StanzaHandlers, RecommendUsesLatestReadingAndIsStored) {
  handle(report("a1", "kitchen", "30"));
  handled h = handle(
      "<iq type='get' id='r'><recommend xmlns='urn:iotxmpp:recommend:0' room='kitchen'/></iq>");
  EXPECT_NE(h.reply.find("<recommend xmlns='urn:iotxmpp:recommend:0'"), std::string::npos)
      << h.reply;
  auto t = h.reply.find("name='temperature'");
  ASSERT_NE(t, std::string::npos) << h.reply;
  EXPECT_NE(h.reply.find("action='lower'", t), std::string::npos) << h.reply;
  ASSERT_EQ(h.writes.size(), 1u);
  ASSERT_TRUE(std::holds_alternative<recommendation>(h.writes[0]));
  EXPECT_EQ(std::get<recommendation>(h.writes[0]).room, "kitchen");
  EXPECT_EQ(std::get<recommendation>(h.writes[0]).at.offset_minutes, 60);
}

TEST_F(StanzaHandlers, FeedForwardsMatchingReportsWithAddresses) {
  auto watcher = std::make_shared<recording_peer>("6000@127.0.0.1/w");
  hub_.bind(watcher);
  hub_.subscribe(watcher, "kitchen");
  handle(report("k", "kitchen", "20"));
  handle(report("o", "office", "20"));
  ASSERT_EQ(watcher->delivered.size(), 1u);
  const std::string& fwd = watcher->delivered[0];
  EXPECT_NE(fwd.find("from='5000@127.0.0.1/dev'"), std::string::npos) << fwd;
  EXPECT_NE(fwd.find("to='6000@127.0.0.1/w'"), std::string::npos) << fwd;
  EXPECT_NE(fwd.find("nodeId='kitchen'"), std::string::npos) << fwd;
  hub_.unsubscribe(*watcher);
  handle(report("k2", "kitchen", "20"));
  EXPECT_EQ(watcher->delivered.size(), 1u);
}

TEST_F(StanzaHandlers, DiscoItemsListsBoundPeers) {
  hub_.bind(device_);
  hub_.bind(std::make_shared<recording_peer>("6000@127.0.0.1/other"));
  handled h =
      handle("<iq type='get' id='i'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>");
  EXPECT_NE(h.reply.find("<item jid='5000@127.0.0.1/dev'/>"), std::string::npos) << h.reply;
  EXPECT_NE(h.reply.find("<item jid='6000@127.0.0.1/other'/>"), std::string::npos) << h.reply;
}

TEST_F(StanzaHandlers, BindingTheSameJidReturnsTheOlderPeer) {
  EXPECT_EQ(hub_.bind(device_), nullptr);
  auto newer = std::make_shared<recording_peer>("5000@127.0.0.1/dev");
  EXPECT_EQ(hub_.bind(newer), device_);
  EXPECT_FALSE(hub_.unbind(*device_));  // the older one's unbind must not evict the newer
  EXPECT_EQ(hub_.online_count(), 1u);
  EXPECT_TRUE(hub_.unbind(*newer));
  EXPECT_EQ(hub_.online_count(), 0u);
  EXPECT_FALSE(hub_.unbind(*newer));  // twice is harmless
}

TEST_F(StanzaHandlers, PresenceQueuedAndUnknownElementIsFatal) {
  handled h = handle("<presence><show>xa</show><status>gone fishing</status></presence>");
  ASSERT_EQ(h.writes.size(), 1u);
  const auto& p = std::get<presence_update>(h.writes[0]);
  EXPECT_TRUE(p.online);
  EXPECT_EQ(p.show, "xa");
  EXPECT_EQ(p.status, "gone fishing");
  handled bad = handle("<bogus/>");
  ASSERT_TRUE(bad.fatal);
  EXPECT_EQ(*bad.fatal, stream_condition::unsupported_stanza_type);
}

}  // namespace
}  // namespace iotxmpp
