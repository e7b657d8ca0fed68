// The stanza handlers without sockets, writer or database: a context of
// in-memory state, and fake peers that record what is delivered to them.

#include "core/server/stanza_handlers.hpp"

#include <gtest/gtest.h>

#include "core/server/feed.hpp"
#include "support/recording_peer.hpp"

namespace iotxmpp {
namespace {

sys_micros at(int64_t seconds) { return sys_micros(std::chrono::seconds(seconds)); }

using test::recording_peer;

struct parsed {
  pugi::xml_document doc;
  pugi::xml_node node;
  explicit parsed(const std::string& xml) {
    EXPECT_TRUE(doc.load_string(xml.c_str())) << xml;
    node = doc.first_child();
  }
};

// No database and no writer: the context is read-only state in memory.
class StanzaHandlers : public ::testing::Test {
 protected:
  StanzaHandlers()
      : rules_(rules::defaults()), rooms_(100, {}), context_{config_, rules_, online_, rooms_} {
    device_ = std::make_shared<recording_peer>("5000@127.0.0.1/dev");
  }

  handled handle(const std::string& xml, sys_micros now = at(1'790'000'000)) {
    parsed p(xml);
    handled h = handle_stanza(p.node, sender_state{device_->address(), room_}, context_, now);
    // What the session does with an accepted report (session::take_effects).
    if (h.report) {
      rooms_.remember(*h.report);
      room_ = h.report->room;
    }
    h.publish = {};  // the parsed stanza dies here
    return h;
  }

  static std::string report(std::string_view id, std::string_view room, std::string_view temp) {
    return "<message to='iot.local' id='" + std::string(id) +
           "'><fields xmlns='urn:xmpp:iot:sensordata' seqnr='1' done='true'><node nodeId='" +
           std::string(room) +
           "'><timestamp value='2026-11-24T08:00:00+01:00'><numeric name='temperature' value='" +
           std::string(temp) + "' unit='°C'/></timestamp></node></fields></message>";
  }

  server_config config_;
  rules rules_;
  registry online_;
  room_cache rooms_;
  handler_context context_;
  std::shared_ptr<recording_peer> device_;
  std::string room_;
};

TEST_F(StanzaHandlers, ReportIsReturnedForTheSessionToStoreAndPublish) {
  parsed p(report("a1", "kitchen", "19"));
  handled h = handle_stanza(p.node, sender_state{device_->address(), ""}, context_, at(5));
  EXPECT_TRUE(h.reply.empty());
  EXPECT_TRUE(h.writes.empty());  // the report and its device row are the session's to write
  ASSERT_TRUE(h.report);
  EXPECT_EQ(h.report->device_jid, "5000@127.0.0.1/dev");
  EXPECT_EQ(h.report->stanza_id, "a1");
  EXPECT_EQ(h.report->room, "kitchen");
  EXPECT_EQ(h.report->received_at, at(5));
  EXPECT_EQ(h.publish, p.node);
  EXPECT_EQ(h.publish_room, "kitchen");
  EXPECT_FALSE(rooms_.find("kitchen").known);  // a handler changes nothing itself
}

TEST_F(StanzaHandlers, MalformedReportGetsBadRequestAndNothingQueued) {
  handled h = handle(report("bad", "kitchen", "warm"));
  EXPECT_TRUE(h.writes.empty());
  EXPECT_NE(h.reply.find("type='error'"), std::string::npos) << h.reply;
  EXPECT_NE(h.reply.find("id='bad'"), std::string::npos) << h.reply;
  EXPECT_NE(h.reply.find("<bad-request"), std::string::npos) << h.reply;
  EXPECT_FALSE(h.report);
  EXPECT_FALSE(h.publish);
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

TEST_F(StanzaHandlers, RecommendForARoomNotInTheCacheAwaitsALookUp) {
  handled h = handle(
      "<iq type='get' id='r'><recommend xmlns='urn:iotxmpp:recommend:0' room='attic'/></iq>");
  EXPECT_TRUE(h.reply.empty());
  EXPECT_TRUE(h.writes.empty());
  ASSERT_TRUE(h.awaits_room);
  EXPECT_EQ(h.awaits_room->room, "attic");
  EXPECT_EQ(h.awaits_room->id, "r");
  // Once the room is known (here: it never reported), the answer is whole.
  handled a = answer_recommend(*h.awaits_room, nullptr, sender_state{device_->address(), ""},
                               context_, at(1'790'000'000));
  EXPECT_NE(a.reply.find("id='r'"), std::string::npos) << a.reply;
  EXPECT_NE(a.reply.find("action='unknown'"), std::string::npos) << a.reply;
  ASSERT_EQ(a.writes.size(), 1u);
  EXPECT_EQ(std::get<recommendation>(a.writes[0]).room, "attic");
}

TEST_F(StanzaHandlers, FeedRequestsAreReturnedAsChanges) {
  handled sub =
      handle("<iq type='set' id='s'><subscribe xmlns='urn:iotxmpp:feed:0' room='kitchen'/></iq>");
  EXPECT_EQ(sub.subscription, handled::feed_change::subscribe);
  EXPECT_EQ(sub.subscription_room, "kitchen");
  EXPECT_NE(sub.reply.find("type='result'"), std::string::npos) << sub.reply;
  handled unsub = handle("<iq type='set' id='u'><unsubscribe xmlns='urn:iotxmpp:feed:0'/></iq>");
  EXPECT_EQ(unsub.subscription, handled::feed_change::unsubscribe);
  handled other = handle("<iq type='set' id='x'><follow xmlns='urn:iotxmpp:feed:0'/></iq>");
  EXPECT_EQ(other.subscription, handled::feed_change::none);
  EXPECT_NE(other.reply.find("<feature-not-implemented"), std::string::npos) << other.reply;
}

TEST(Feed, ForwardsMatchingStanzasWithAddresses) {
  feed f;
  auto watcher = std::make_shared<recording_peer>("6000@127.0.0.1/w");
  auto all = std::make_shared<recording_peer>("6001@127.0.0.1/all");
  f.subscribe(watcher, "kitchen");
  f.subscribe(all, "");
  parsed k("<message id='k'><body>x</body></message>");
  f.publish("kitchen", k.node, "5000@127.0.0.1/dev");
  f.publish("office", k.node, "5000@127.0.0.1/dev");
  ASSERT_EQ(watcher->delivered.size(), 1u);
  EXPECT_EQ(all->delivered.size(), 2u);
  const std::string& fwd = watcher->delivered[0];
  EXPECT_NE(fwd.find("from='5000@127.0.0.1/dev'"), std::string::npos) << fwd;
  EXPECT_NE(fwd.find("to='6000@127.0.0.1/w'"), std::string::npos) << fwd;
  f.unsubscribe(*watcher);
  f.publish("kitchen", k.node, "5000@127.0.0.1/dev");
  EXPECT_EQ(watcher->delivered.size(), 1u);
  EXPECT_EQ(all->delivered.size(), 3u);
}

TEST_F(StanzaHandlers, DiscoItemsListsBoundPeers) {
  online_.bind(device_);
  online_.bind(std::make_shared<recording_peer>("6000@127.0.0.1/other"));
  handled h =
      handle("<iq type='get' id='i'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>");
  EXPECT_NE(h.reply.find("<item jid='5000@127.0.0.1/dev'/>"), std::string::npos) << h.reply;
  EXPECT_NE(h.reply.find("<item jid='6000@127.0.0.1/other'/>"), std::string::npos) << h.reply;
}

TEST(Registry, BindingTheSameJidReturnsTheOlderPeer) {
  registry online;
  auto device = std::make_shared<recording_peer>("5000@127.0.0.1/dev");
  EXPECT_EQ(online.bind(device), nullptr);
  auto newer = std::make_shared<recording_peer>("5000@127.0.0.1/dev");
  EXPECT_EQ(online.bind(newer), device);
  EXPECT_FALSE(online.unbind(*device));  // the older one's unbind must not evict the newer
  EXPECT_EQ(online.online_count(), 1u);
  EXPECT_TRUE(online.unbind(*newer));
  EXPECT_EQ(online.online_count(), 0u);
  EXPECT_FALSE(online.unbind(*newer));  // twice is harmless
}

TEST_F(StanzaHandlers, PresenceQueuedAndUnknownElementIsFatal) {
  handled h = handle("<presence><show>xa</show><status>gone fishing</status></presence>");
  EXPECT_TRUE(h.writes.empty());
  ASSERT_TRUE(h.presence);
  const auto& p = *h.presence;
  EXPECT_TRUE(p.online);
  EXPECT_EQ(p.show, "xa");
  EXPECT_EQ(p.status, "gone fishing");
  handled bad = handle("<bogus/>");
  ASSERT_TRUE(bad.fatal);
  EXPECT_EQ(*bad.fatal, stream_condition::unsupported_stanza_type);
}

}  // namespace
}  // namespace iotxmpp
