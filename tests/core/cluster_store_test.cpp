// The store's half of several nodes (store.hpp: the feed numbers, binds,
// heartbeats, the online set elsewhere, dead nodes), run alike on SQLite
// and on MariaDB.

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <set>
#include <thread>

#include "core/store/store.hpp"
#include "core/store/store_writer.hpp"
#include "support/scratch_db.hpp"
#include "support/store_records.hpp"

namespace iotxmpp {
namespace {

using test::engine;
using test::make_report;
using test::micros_at;
using what = feed_ref::what;

class ClusterStoreTest : public ::testing::TestWithParam<engine> {
 protected:
  void SetUp() override {
    db_ = std::make_unique<test::scratch_db>(GetParam(), "nodes");
    if (!db_->skip_reason().empty()) GTEST_SKIP() << db_->skip_reason();
    ASSERT_EQ(db_->setup_error(), "");
  }

  std::unique_ptr<store> open() {
    auto s = open_store(db_->url());
    EXPECT_TRUE(s) << s.error().message;
    if (!s) return nullptr;
    auto m = (*s)->migrate();
    EXPECT_TRUE(m) << m.error().message;
    return std::move(*s);
  }
  static void apply_ok(store& s, const write_batch& b) {
    auto r = s.apply(b);
    ASSERT_TRUE(r) << r.error().message;
  }
  static std::vector<feed_record> after(store& s, std::string_view node, std::int64_t seq,
                                        std::size_t limit = 1000, bool reports = true) {
    auto r = s.feed_after(node, seq, limit, reports);
    EXPECT_TRUE(r) << r.error().message;
    return r ? *r : std::vector<feed_record>{};
  }
  static std::int64_t head(store& s, std::string_view node) {
    auto heads = s.feed_heads();
    EXPECT_TRUE(heads) << heads.error().message;
    for (const auto& h : *heads)
      if (h.node == node) return h.last_seq;
    return 0;
  }
  static device_touch bind(std::string jid, sys_micros at) {
    device_touch t{std::move(jid), "", at};
    t.bound_at = at;
    return t;
  }
  static presence_update presence(std::string jid, bool online, sys_micros at) {
    presence_update p;
    p.device_jid = std::move(jid);
    p.online = online;
    p.show = online ? "dnd" : "";
    p.status = "busy <here>";
    p.at = at;
    return p;
  }
  static std::optional<device_row> row_of(store& s, std::string_view jid) {
    auto rows = s.devices(false);
    EXPECT_TRUE(rows) << rows.error().message;
    for (auto& d : *rows)
      if (d.jid == jid) return d;
    return std::nullopt;
  }

  std::unique_ptr<test::scratch_db> db_;
};

TEST_P(ClusterStoreTest, FeedNumbersFollowSubmissionOrderAndGoOnAfterARestart) {
  auto s = open();
  ASSERT_TRUE(s);
  write_batch b;
  b.node = "node-a";
  b.touches.push_back(bind("d@iot/x", micros_at(1)));
  b.touches.push_back({"d@iot/x", "kitchen", micros_at(2)});  // a move: no event
  b.reports.push_back(make_report("kitchen", "r1", micros_at(2), "d@iot/x"));
  b.reports.push_back(make_report("kitchen", "r2", micros_at(3), "d@iot/x"));
  b.presences.push_back(presence("d@iot/x", true, micros_at(4)));
  b.recommendations.push_back(test::make_recommendation("kitchen", micros_at(4)));  // no event
  // As submitted: bind, r1, presence, r2.
  b.feed_order = {{what::bind, 0}, {what::report, 0}, {what::presence, 0}, {what::report, 1}};
  apply_ok(*s, b);
  EXPECT_EQ(head(*s, "node-a"), 4);

  auto events = after(*s, "node-a", 0);
  ASSERT_EQ(events.size(), 4u);
  for (std::size_t i = 0; i < events.size(); ++i) EXPECT_EQ(events[i].seq, std::int64_t(i + 1));
  EXPECT_EQ(events[0].kind, what::bind);
  EXPECT_EQ(events[0].presence.device_jid, "d@iot/x");
  EXPECT_EQ(events[0].presence.at, micros_at(1));
  EXPECT_EQ(events[1].kind, what::report);
  EXPECT_EQ(events[1].report.stanza_id, "r1");
  EXPECT_EQ(events[1].report.device_jid, "d@iot/x");
  EXPECT_EQ(events[1].report.taken_at.utc, micros_at(2));
  EXPECT_EQ(events[1].report.taken_at.offset_minutes, 60);
  ASSERT_EQ(events[1].report.values.size(), 3u);
  EXPECT_EQ(events[1].report.values[0].name, "temperature");
  EXPECT_EQ(events[1].report.values[0].value, 21.5);
  EXPECT_EQ(events[1].report.values[1].unit, "%");
  EXPECT_EQ(events[1].report.received_at, b.reports[0].received_at);
  EXPECT_EQ(events[2].kind, what::presence);
  EXPECT_EQ(events[2].room, "kitchen");  // the device's room when it was stored
  EXPECT_EQ(events[2].presence.show, "dnd");
  EXPECT_EQ(events[2].presence.status, "busy <here>");
  EXPECT_TRUE(events[2].presence.online);
  EXPECT_EQ(events[3].report.stanza_id, "r2");

  // From where a reader stood, in bounded batches.
  auto rest = after(*s, "node-a", 1, 2);
  ASSERT_EQ(rest.size(), 2u);
  EXPECT_EQ(rest[0].seq, 2);
  EXPECT_EQ(rest[1].seq, 3);
  // Without reports: the binds and presences only.
  auto no_reports = after(*s, "node-a", 0, 1000, false);
  ASSERT_EQ(no_reports.size(), 2u);
  EXPECT_EQ(no_reports[0].seq, 1);
  EXPECT_EQ(no_reports[1].seq, 3);

  // A restarted node (a new connection) goes on from its last number; a
  // duplicate report leaves a gap, never a number given twice.
  s.reset();
  auto again = open();
  ASSERT_TRUE(again);
  write_batch c;
  c.node = "node-a";
  c.reports.push_back(make_report("kitchen", "r2", micros_at(3), "d@iot/x"));  // resent
  c.reports.push_back(make_report("kitchen", "r3", micros_at(5), "d@iot/x"));
  apply_ok(*again, c);  // no feed_order: binds, presences, reports in vector order
  EXPECT_EQ(head(*again, "node-a"), 6);
  auto later = after(*again, "node-a", 4);
  ASSERT_EQ(later.size(), 1u);
  EXPECT_EQ(later[0].seq, 6);
  EXPECT_EQ(later[0].report.stanza_id, "r3");
  // Another node numbers its own events from 1; a batch without a node none.
  write_batch other;
  other.node = "node-b";
  other.reports.push_back(make_report("hall", "h1", micros_at(6)));
  apply_ok(*again, other);
  write_batch tool;
  tool.reports.push_back(make_report("hall", "h2", micros_at(7)));
  apply_ok(*again, tool);
  EXPECT_EQ(head(*again, "node-b"), 1);
  EXPECT_EQ(after(*again, "node-b", 0).size(), 1u);
  EXPECT_EQ(head(*again, "node-a"), 6);
}

TEST_P(ClusterStoreTest, TheWriterNumbersANodesEventsInSubmissionOrder) {
  auto s = open();
  ASSERT_TRUE(s);
  writer_options o;
  o.node = "node-a";
  o.max_delay = std::chrono::milliseconds(50);  // one batch, so a refused item splits it
  store_writer w([url = db_->url()] { return open_store(url); }, o);
  status_report bad = make_report("kitchen", "nan", micros_at(3), "d@iot/x");
  bad.values[0].value = std::numeric_limits<double>::quiet_NaN();  // refused: the batch is halved
  w.submit_wait(bind("d@iot/x", micros_at(1)));
  w.submit_wait(make_report("kitchen", "r1", micros_at(2), "d@iot/x"));
  w.submit_wait(std::move(bad));
  w.submit_wait(presence("d@iot/x", true, micros_at(4)));
  w.submit_wait(test::make_recommendation("kitchen", micros_at(4)));
  w.submit_wait(make_report("kitchen", "r2", micros_at(5), "d@iot/x"));
  w.flush();
  auto events = after(*s, "node-a", 0);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].kind, what::bind);
  EXPECT_EQ(events[1].report.stanza_id, "r1");
  EXPECT_EQ(events[2].kind, what::presence);
  EXPECT_EQ(events[3].report.stanza_id, "r2");
  for (std::size_t i = 1; i < events.size(); ++i) EXPECT_LT(events[i - 1].seq, events[i].seq);
  auto row = row_of(*s, "d@iot/x");
  ASSERT_TRUE(row);
  EXPECT_EQ(row->node, "node-a");
}

TEST_P(ClusterStoreTest, PrunedEventsNeverTurnTheNumbersBack) {
  auto s = open();
  ASSERT_TRUE(s);
  write_batch b;
  b.node = "node-a";
  b.touches.push_back(bind("d@iot/x", micros_at(1)));
  b.presences.push_back(presence("d@iot/x", false, micros_at(2)));
  apply_ok(*s, b);
  auto pruned = s->prune_feed(micros_at(10), 100);
  ASSERT_TRUE(pruned) << pruned.error().message;
  EXPECT_EQ(*pruned, 2u);
  EXPECT_TRUE(after(*s, "node-a", 0).empty());
  EXPECT_EQ(head(*s, "node-a"), 2);  // the last number stays
  write_batch c;
  c.node = "node-a";
  c.presences.push_back(presence("d@iot/x", true, micros_at(20)));
  apply_ok(*s, c);
  auto events = after(*s, "node-a", 2);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].seq, 3);
  EXPECT_EQ(*s->prune_feed(micros_at(10), 100), 0u);  // nothing older left
}

TEST_P(ClusterStoreTest, TwoWritersOfOneNodeNeverShareANumber) {
  // A node's numbers are taken under its sequence row's lock, so even two
  // connections writing for one node (a misconfiguration) interleave whole
  // batches: every number once, and the numbers of a batch together.
  auto s = open();
  ASSERT_TRUE(s);
  constexpr int batches = 30, per_batch = 7;
  auto writer = [&](int who, result<void>& out) {
    auto w = open();
    if (!w) return;
    for (int i = 0; i < batches && out; ++i) {
      write_batch b;
      b.node = "node-a";
      for (int k = 0; k < per_batch; ++k)
        b.reports.push_back(make_report(
            "room", std::to_string(who) + "-" + std::to_string(i) + "-" + std::to_string(k),
            micros_at(i)));
      // A lock wait or deadlock is transient: the writer retries it.
      for (int attempt = 0; attempt < 20; ++attempt) {
        out = w->apply(b);
        if (out || out.error().kind != error_kind::timeout) break;
      }
    }
  };
  result<void> r1, r2;
  std::thread t1([&] { writer(1, r1); });
  std::thread t2([&] { writer(2, r2); });
  t1.join();
  t2.join();
  ASSERT_TRUE(r1) << r1.error().message;
  ASSERT_TRUE(r2) << r2.error().message;
  constexpr int total = 2 * batches * per_batch;
  EXPECT_EQ(head(*s, "node-a"), total);
  std::vector<feed_record> all;
  for (std::int64_t last = 0;;) {
    auto part = after(*s, "node-a", last, 100);
    if (part.empty()) break;
    last = part.back().seq;
    all.insert(all.end(), part.begin(), part.end());
  }
  ASSERT_EQ(all.size(), std::size_t(total));
  for (int i = 0; i < total; ++i) ASSERT_EQ(all[i].seq, i + 1);
  // Each batch's reports got consecutive numbers in their order.
  for (int i = 0; i < total; i += per_batch) {
    const std::string first = all[i].report.stanza_id;
    const std::string batch = first.substr(0, first.rfind('-') + 1);
    for (int k = 0; k < per_batch; ++k)
      EXPECT_EQ(all[i + k].report.stanza_id, batch + std::to_string(k)) << "at " << i + k;
  }
}

TEST_P(ClusterStoreTest, TheNewestBindHoldsTheRowWhateverOrderTheNodesCommitIn) {
  auto s = open();
  ASSERT_TRUE(s);
  write_batch newer;
  newer.node = "node-b";
  newer.touches.push_back(bind("d@iot/x", micros_at(20)));
  apply_ok(*s, newer);
  write_batch older;  // bound earlier on node-a, committed later
  older.node = "node-a";
  older.touches.push_back(bind("d@iot/x", micros_at(10)));
  apply_ok(*s, older);
  auto row = row_of(*s, "d@iot/x");
  ASSERT_TRUE(row);
  EXPECT_EQ(row->node, "node-b");
  EXPECT_TRUE(row->online);
  // A refresh from node-a's session (not a bind) moves last_update, not the node.
  write_batch refresh;
  refresh.node = "node-a";
  refresh.touches.push_back({"d@iot/x", "hall", micros_at(30)});
  apply_ok(*s, refresh);
  row = row_of(*s, "d@iot/x");
  EXPECT_EQ(row->node, "node-b");
  EXPECT_EQ(row->room, "hall");
  EXPECT_EQ(row->last_update, micros_at(30));
  // node-a's session ends (it lost the JID): the row stays node-b's, online.
  write_batch gone;
  gone.node = "node-a";
  gone.offlines.push_back({"d@iot/x"});
  apply_ok(*s, gone);
  EXPECT_TRUE(row_of(*s, "d@iot/x")->online);
  // node-b's session ends: offline.
  gone.node = "node-b";
  apply_ok(*s, gone);
  EXPECT_FALSE(row_of(*s, "d@iot/x")->online);
  // A later bind elsewhere takes it over.
  write_batch latest;
  latest.node = "node-a";
  latest.touches.push_back(bind("d@iot/x", micros_at(40)));
  apply_ok(*s, latest);
  row = row_of(*s, "d@iot/x");
  EXPECT_EQ(row->node, "node-a");
  EXPECT_TRUE(row->online);
  // Tools (no node) mark offline whoever holds it.
  write_batch tool;
  tool.offlines.push_back({"d@iot/x"});
  apply_ok(*s, tool);
  EXPECT_FALSE(row_of(*s, "d@iot/x")->online);
}

TEST_P(ClusterStoreTest, HeartbeatsTellLiveNodesFromDeadOnes) {
  auto s = open();
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->heartbeat("node-a", micros_at(0), micros_at(100)));
  ASSERT_TRUE(s->heartbeat("node-b", micros_at(0), micros_at(100)));
  ASSERT_TRUE(s->heartbeat("node-dead", micros_at(0), micros_at(50)));
  ASSERT_TRUE(s->heartbeat("node-b", micros_at(0), micros_at(90)));  // late: never moves back
  auto nodes = s->nodes();
  ASSERT_TRUE(nodes) << nodes.error().message;
  ASSERT_EQ(nodes->size(), 3u);
  EXPECT_EQ((*nodes)[1].node, "node-b");
  EXPECT_EQ((*nodes)[1].last_seen, micros_at(100));

  for (auto [node, jid] :
       {std::pair{"node-a", "a@iot/x"}, std::pair{"node-b", "b@iot/x"},
        std::pair{"node-dead", "z1@iot/x"}, std::pair{"node-dead", "z2@iot/x"}}) {
    write_batch b;
    b.node = node;
    b.touches.push_back(bind(jid, micros_at(60)));
    b.touches.back().room = "kitchen";
    apply_ok(*s, b);
  }
  auto elsewhere = s->online_elsewhere("node-a", micros_at(95));
  ASSERT_TRUE(elsewhere) << elsewhere.error().message;
  ASSERT_EQ(elsewhere->size(), 1u);  // not ours, not the dead node's
  EXPECT_EQ((*elsewhere)[0].jid, "b@iot/x");
  EXPECT_EQ((*elsewhere)[0].node, "node-b");
  EXPECT_EQ((*elsewhere)[0].room, "kitchen");

  auto marked = s->offline_dead_nodes(micros_at(95));
  ASSERT_TRUE(marked) << marked.error().message;
  EXPECT_EQ(*marked, 2u);
  EXPECT_EQ(*s->offline_dead_nodes(micros_at(95)), 0u);  // idempotent
  auto online = s->devices(true);
  ASSERT_TRUE(online);
  ASSERT_EQ(online->size(), 2u);
  EXPECT_EQ((*online)[0].jid, "a@iot/x");
  EXPECT_EQ((*online)[1].jid, "b@iot/x");
}

// A node that restarts (SIGKILL, then up again within the dead window) no
// longer holds the sessions bound before it started: they are not listed as
// online elsewhere, and the reapers mark them offline; a device bound to
// the new process stays online.
TEST_P(ClusterStoreTest, DevicesBoundBeforeTheirNodeRestartedAreNotOnline) {
  auto s = open();
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->heartbeat("node-b", micros_at(0), micros_at(10)));
  for (auto [jid, at] : {std::pair{"old@iot/x", 5}, std::pair{"new@iot/x", 25}}) {
    write_batch b;
    b.node = "node-b";
    b.touches.push_back(bind(jid, micros_at(at)));
    apply_ok(*s, b);
  }
  ASSERT_TRUE(s->heartbeat("node-b", micros_at(20), micros_at(30)));  // restarted at 20
  auto elsewhere = s->online_elsewhere("node-a", micros_at(25));
  ASSERT_TRUE(elsewhere) << elsewhere.error().message;
  ASSERT_EQ(elsewhere->size(), 1u);
  EXPECT_EQ((*elsewhere)[0].jid, "new@iot/x");

  auto marked = s->offline_dead_nodes(micros_at(25));  // node-b lives: not dead
  ASSERT_TRUE(marked) << marked.error().message;
  EXPECT_EQ(*marked, 1u);
  EXPECT_FALSE(row_of(*s, "old@iot/x")->online);
  EXPECT_TRUE(row_of(*s, "new@iot/x")->online);
  EXPECT_EQ(*s->offline_dead_nodes(micros_at(25)), 0u);
}

TEST_P(ClusterStoreTest, TwoNodesMarkingADeadNodesDevicesAtOnceCountEachOnce) {
  auto s = open();
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->heartbeat("node-dead", micros_at(0), micros_at(1)));
  constexpr int devices = 300;
  write_batch b;
  b.node = "node-dead";
  for (int i = 0; i < devices; ++i)
    b.touches.push_back(bind("d" + std::to_string(i) + "@iot/x", micros_at(1)));
  apply_ok(*s, b);
  for (int round = 0; round < 2; ++round) {
    auto r1 = open(), r2 = open();
    ASSERT_TRUE(r1 && r2);
    result<std::size_t> a, c;
    std::thread t1([&] { a = r1->offline_dead_nodes(micros_at(100)); });
    std::thread t2([&] { c = r2->offline_dead_nodes(micros_at(100)); });
    t1.join();
    t2.join();
    ASSERT_TRUE(a) << a.error().message;
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(*a + *c, round == 0 ? std::size_t(devices) : 0u);
  }
  EXPECT_TRUE(s->devices(true)->empty());
}

INSTANTIATE_TEST_SUITE_P(Engines, ClusterStoreTest,
                         ::testing::Values(engine::sqlite, engine::mysql),
                         [](const auto& info) { return test::engine_name(info.param); });

}  // namespace
}  // namespace iotxmpp
