// The store contract (store.hpp), run alike on SQLite and on MariaDB.

#include "core/store/store.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <thread>

#include "core/store/schema.hpp"
#include "support/scratch_db.hpp"
#include "support/store_records.hpp"

namespace iotxmpp {
namespace {

using test::engine;
using test::make_report;
using test::micros_at;

class StoreTest : public ::testing::TestWithParam<engine> {
 protected:
  void SetUp() override {
    db_ = std::make_unique<test::scratch_db>(GetParam(), "store");
    if (!db_->skip_reason().empty()) GTEST_SKIP() << db_->skip_reason();
    ASSERT_EQ(db_->setup_error(), "");
  }

  // A new connection to the test database, not migrated.
  std::unique_ptr<store> open() {
    auto s = open_store(db_->url());
    EXPECT_TRUE(s) << s.error().message;
    return s ? std::move(*s) : nullptr;
  }
  // A new connection with the schema in place.
  std::unique_ptr<store> open_migrated() {
    auto s = open();
    if (!s) return s;
    auto m = s->migrate();
    EXPECT_TRUE(m) << m.error().message;
    return s;
  }
  std::size_t reports(store& s) {
    auto n = s.count_reports();
    EXPECT_TRUE(n) << n.error().message;
    return n ? *n : 0;
  }
  std::vector<device_row> devices(store& s, bool online_only = false) {
    auto d = s.devices(online_only);
    EXPECT_TRUE(d) << d.error().message;
    return d ? *d : std::vector<device_row>{};
  }
  static std::vector<std::string> jids(const std::vector<device_row>& rows) {
    std::vector<std::string> out;
    for (const auto& r : rows) out.push_back(r.jid);
    return out;
  }
  static void apply_ok(store& s, const write_batch& b) {
    auto r = s.apply(b);
    ASSERT_TRUE(r) << r.error().message;
  }
  static write_batch touches(std::initializer_list<std::pair<std::string, sys_micros>> list) {
    write_batch b;
    for (const auto& [jid, at] : list) b.touches.push_back({jid, "hall", at});
    return b;
  }

  std::unique_ptr<test::scratch_db> db_;
};

TEST_P(StoreTest, MigrateCreatesSchemaThenChangesNothing) {
  auto s = open();
  ASSERT_TRUE(s);
  auto first = s->migrate();
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->from_version, 0);
  EXPECT_EQ(first->to_version, latest_schema_version);
  EXPECT_EQ(first->applied.size(), static_cast<std::size_t>(latest_schema_version));
  EXPECT_EQ(first->applied.front(), "v1: initial schema");

  auto again = s->migrate();
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->from_version, latest_schema_version);
  EXPECT_EQ(again->to_version, latest_schema_version);
  EXPECT_TRUE(again->applied.empty());

  // And from another connection.
  auto other = open();
  ASSERT_TRUE(other);
  auto third = other->migrate();
  ASSERT_TRUE(third) << third.error().message;
  EXPECT_TRUE(third->applied.empty());
}

TEST_P(StoreTest, TwoConcurrentMigrationsApplyEachStepOnce) {
  auto a = open(), b = open();
  ASSERT_TRUE(a && b);
  result<migration_report> ra, rb;
  std::thread ta([&] { ra = a->migrate(); });
  std::thread tb([&] { rb = b->migrate(); });
  ta.join();
  tb.join();
  ASSERT_TRUE(ra) << ra.error().message;
  ASSERT_TRUE(rb) << rb.error().message;
  EXPECT_EQ(ra->applied.size() + rb->applied.size(),
            static_cast<std::size_t>(latest_schema_version));
  EXPECT_EQ(ra->to_version, latest_schema_version);
  EXPECT_EQ(rb->to_version, latest_schema_version);
}

TEST_P(StoreTest, MigratesFromAnOlderSchemaKeepingItsData) {
  auto s = open();
  ASSERT_TRUE(s);
  auto v1 = s->migrate_to(1);
  ASSERT_TRUE(v1) << v1.error().message;
  EXPECT_EQ(v1->to_version, 1);
  ASSERT_EQ(v1->applied, std::vector<std::string>{"v1: initial schema"});

  write_batch b;
  b.reports.push_back(make_report("kitchen", "s-1", micros_at(100)));
  apply_ok(*s, b);
  // v1 has no targets column: a recommendation cannot be written yet.
  write_batch rec;
  rec.recommendations.push_back(test::make_recommendation("kitchen", micros_at(100)));
  EXPECT_FALSE(s->apply(rec));

  auto up = open()->migrate();
  ASSERT_TRUE(up) << up.error().message;
  EXPECT_EQ(up->from_version, 1);
  EXPECT_EQ(up->to_version, latest_schema_version);
  ASSERT_EQ(up->applied.size(), static_cast<std::size_t>(latest_schema_version - 1));
  EXPECT_EQ(up->applied.front().rfind("v2: ", 0), 0u);

  EXPECT_EQ(reports(*s), 1u);
  apply_ok(*s, rec);
  auto n = s->count_recommendations();
  ASSERT_TRUE(n) << n.error().message;
  EXPECT_EQ(*n, 1u);
}

TEST_P(StoreTest, WithoutSchemaSaysToRunDbInit) {
  auto s = open();
  ASSERT_TRUE(s);
  auto n = s->count_reports();
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error().kind, error_kind::database);
  EXPECT_NE(n.error().message.find("db-init"), std::string::npos) << n.error().message;
}

TEST_P(StoreTest, LatestReportRoundTripsEveryValue) {
  auto s = open_migrated();
  ASSERT_TRUE(s);
  auto none = s->latest_report("kitchen");
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_FALSE(*none);

  status_report r = make_report("kitchen", "s-1", micros_at(1000));
  r.taken_at.offset_minutes = 90;
  r.values = {{"temperature", 21.5,
               "\xC2\xB0"
               "C"},
              {"humidity", 40.25, "%"},
              {"brightness", 310, "cd"},  // not the implied lx
              {"co2", 612, "ppm"},
              {"noise", -3.5, ""}};
  write_batch b;
  b.reports.push_back(r);
  apply_ok(*s, b);

  auto got = s->latest_report("kitchen");
  ASSERT_TRUE(got && *got);
  const status_report& g = **got;
  EXPECT_EQ(g.device_jid, r.device_jid);
  EXPECT_EQ(g.room, "kitchen");
  EXPECT_EQ(g.stanza_id, "s-1");
  EXPECT_EQ(g.taken_at.utc, r.taken_at.utc);
  EXPECT_EQ(g.taken_at.offset_minutes, 90);
  EXPECT_EQ(g.received_at, r.received_at);
  ASSERT_EQ(g.values.size(), r.values.size());
  for (std::size_t i = 0; i < r.values.size(); ++i) {
    EXPECT_EQ(g.values[i].name, r.values[i].name);
    EXPECT_EQ(g.values[i].value, r.values[i].value);
    EXPECT_EQ(g.values[i].unit, r.values[i].unit);
  }
  auto other_room = s->latest_report("hall");
  ASSERT_TRUE(other_room);
  EXPECT_FALSE(*other_room);
}

TEST_P(StoreTest, LateResendOfAnOldReportDoesNotHideANewerOne) {
  auto s = open_migrated();
  ASSERT_TRUE(s);
  write_batch b;
  b.reports.push_back(make_report("kitchen", "s-1", micros_at(100)));
  b.reports.push_back(make_report("kitchen", "s-3", micros_at(300)));
  apply_ok(*s, b);
  write_batch late;
  late.reports.push_back(make_report("kitchen", "s-2", micros_at(200)));  // arrives last
  late.reports.push_back(make_report("kitchen", "s-1", micros_at(100)));  // a resend
  apply_ok(*s, late);
  auto got = s->latest_report("kitchen");
  ASSERT_TRUE(got && *got);
  EXPECT_EQ((*got)->stanza_id, "s-3");

  // Equal instants: the one stored last wins.
  write_batch tie;
  tie.reports.push_back(make_report("kitchen", "s-4", micros_at(300)));
  apply_ok(*s, tie);
  got = s->latest_report("kitchen");
  ASSERT_TRUE(got && *got);
  EXPECT_EQ((*got)->stanza_id, "s-4");
}

TEST_P(StoreTest, ResentReportIsStoredOnceWithinAndAcrossBatches) {
  auto s = open_migrated();
  ASSERT_TRUE(s);
  write_batch b;
  b.reports.push_back(make_report("kitchen", "s-1", micros_at(100)));
  b.reports.push_back(make_report("kitchen", "s-1", micros_at(100)));  // same batch
  b.reports.push_back(make_report("hall", "s-1", micros_at(100)));     // other room: distinct
  b.reports.push_back(make_report("hall", "", micros_at(100)));        // no id: stored each time
  b.reports.push_back(make_report("hall", "", micros_at(100)));
  apply_ok(*s, b);
  EXPECT_EQ(reports(*s), 4u);

  write_batch again;
  again.reports.push_back(make_report("kitchen", "s-1", micros_at(100)));
  again.reports.push_back(make_report("hall", "s-1", micros_at(100)));
  again.reports.push_back(make_report("kitchen", "s-2", micros_at(200)));
  apply_ok(*s, again);
  EXPECT_EQ(reports(*s), 5u);
}

TEST_P(StoreTest, ResentReportIsStoredOnceAcrossConnections) {
  auto a = open_migrated();
  auto b = open();
  ASSERT_TRUE(a && b);
  write_batch batch;
  for (int i = 0; i < 100; ++i)
    batch.reports.push_back(make_report("kitchen", "s-" + std::to_string(i), micros_at(i)));
  // Both connections write the same reports at the same time, as two
  // sessions of a reconnecting device might.
  result<void> ra, rb;
  std::thread ta([&] { ra = a->apply(batch); });
  std::thread tb([&] { rb = b->apply(batch); });
  ta.join();
  tb.join();
  ASSERT_TRUE(ra) << ra.error().message;
  ASSERT_TRUE(rb) << rb.error().message;
  EXPECT_EQ(reports(*a), 100u);
  EXPECT_EQ(reports(*b), 100u);
}

TEST_P(StoreTest, DevicesListsEveryOrOnlyOnlineOnesByJid) {
  auto s = open_migrated();
  ASSERT_TRUE(s);
  write_batch b = touches({{"c@iot/x", micros_at(10)}, {"a@iot/x", micros_at(10)}});
  b.presences.push_back({"b@iot/x", true, "away", "lunch", micros_at(20)});
  b.presences.push_back({"d@iot/x", false, "", "", micros_at(20)});
  apply_ok(*s, b);

  auto all = devices(*s);
  EXPECT_EQ(jids(all), (std::vector<std::string>{"a@iot/x", "b@iot/x", "c@iot/x", "d@iot/x"}));
  EXPECT_EQ(jids(devices(*s, true)), (std::vector<std::string>{"a@iot/x", "b@iot/x", "c@iot/x"}));
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[0].room, "hall");
  EXPECT_EQ(all[0].first_seen, micros_at(10));
  EXPECT_TRUE(all[0].online);
  EXPECT_EQ(all[1].room, "");
  EXPECT_EQ(all[1].show, "away");
  EXPECT_EQ(all[1].status, "lunch");
  EXPECT_EQ(all[1].last_update, micros_at(20));
  EXPECT_FALSE(all[3].online);
}

TEST_P(StoreTest, TouchNeverMovesLastUpdateBackAndKeepsFirstSeen) {
  auto s = open_migrated();
  ASSERT_TRUE(s);
  apply_ok(*s, touches({{"a@iot/x", micros_at(50)}}));
  write_batch older;
  older.touches.push_back({"a@iot/x", "", micros_at(40)});  // late, and no room
  apply_ok(*s, older);
  auto d = devices(*s);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].last_update, micros_at(50));
  EXPECT_EQ(d[0].first_seen, micros_at(50));
  EXPECT_EQ(d[0].room, "hall");  // an empty room does not erase it

  write_batch newer;
  newer.touches.push_back({"a@iot/x", "attic", micros_at(60)});
  apply_ok(*s, newer);
  d = devices(*s);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].last_update, micros_at(60));
  EXPECT_EQ(d[0].first_seen, micros_at(50));
  EXPECT_EQ(d[0].room, "attic");
}

TEST_P(StoreTest, OfflineOnlyUpdatesAndNeverRecreatesAReapedDevice) {
  auto s = open_migrated();
  ASSERT_TRUE(s);
  apply_ok(*s, touches({{"a@iot/x", micros_at(10)}, {"b@iot/x", micros_at(10)}}));
  write_batch off;
  off.offlines.push_back({"a@iot/x"});
  off.offlines.push_back({"ghost@iot/x"});  // never seen
  apply_ok(*s, off);
  auto d = devices(*s);
  ASSERT_EQ(jids(d), (std::vector<std::string>{"a@iot/x", "b@iot/x"}));
  EXPECT_FALSE(d[0].online);
  EXPECT_EQ(d[0].last_update, micros_at(10));  // the end of a session is not news from the device
  EXPECT_TRUE(d[1].online);

  // Touch and offline of one device in one batch: it ends offline.
  write_batch both = touches({{"b@iot/x", micros_at(40)}});
  both.offlines.push_back({"b@iot/x"});
  apply_ok(*s, both);
  EXPECT_EQ(jids(devices(*s, true)), std::vector<std::string>{});

  auto reaped = s->reap(micros_at(100), false);
  ASSERT_TRUE(reaped) << reaped.error().message;
  EXPECT_EQ(reaped->size(), 2u);
  write_batch late;
  late.offlines.push_back({"a@iot/x"});  // its session ends after the reap
  apply_ok(*s, late);
  EXPECT_TRUE(devices(*s).empty());
}

TEST_P(StoreTest, ReapRemovesOnlyDevicesOlderThanTheCutoff) {
  auto s = open_migrated();
  ASSERT_TRUE(s);
  sys_micros cutoff = micros_at(1000);
  write_batch b = touches({{"older@iot/x", cutoff - std::chrono::microseconds(1)},
                           {"at@iot/x", cutoff},
                           {"newer@iot/x", cutoff + std::chrono::microseconds(1)},
                           {"ancient@iot/x", micros_at(1)}});
  b.reports.push_back(make_report("hall", "s-1", micros_at(1), "older@iot/x"));
  apply_ok(*s, b);

  auto dry = s->reap(cutoff, true);
  ASSERT_TRUE(dry) << dry.error().message;
  EXPECT_EQ(jids(*dry), (std::vector<std::string>{"ancient@iot/x", "older@iot/x"}));
  EXPECT_EQ(devices(*s).size(), 4u);  // a dry run removes nothing

  auto reaped = s->reap(cutoff, false);
  ASSERT_TRUE(reaped) << reaped.error().message;
  EXPECT_EQ(jids(*reaped), (std::vector<std::string>{"ancient@iot/x", "older@iot/x"}));
  ASSERT_EQ(reaped->size(), 2u);
  EXPECT_EQ((*reaped)[1].last_update, cutoff - std::chrono::microseconds(1));
  EXPECT_EQ((*reaped)[1].room, "hall");
  EXPECT_EQ(jids(devices(*s)), (std::vector<std::string>{"at@iot/x", "newer@iot/x"}));
  EXPECT_EQ(reports(*s), 1u);  // readings stay

  auto nothing = s->reap(cutoff, false);
  ASSERT_TRUE(nothing) << nothing.error().message;
  EXPECT_TRUE(nothing->empty());
}

TEST_P(StoreTest, TwoConcurrentReapersNeverReportOneDeviceTwice) {
  auto s = open_migrated();
  ASSERT_TRUE(s);
  constexpr int stale = 300;
  write_batch b;
  for (int i = 0; i < stale; ++i)
    b.touches.push_back({std::string("d").append(std::to_string(i)) + "@iot/x", "", micros_at(i)});
  b.touches.push_back({"fresh@iot/x", "", micros_at(5000)});
  apply_ok(*s, b);

  for (int round = 0; round < 2; ++round) {
    auto r1 = open(), r2 = open();
    ASSERT_TRUE(r1 && r2);
    result<std::vector<device_row>> a, c;
    std::thread t1([&] { a = r1->reap(micros_at(1000), false); });
    std::thread t2([&] { c = r2->reap(micros_at(1000), false); });
    t1.join();
    t2.join();
    ASSERT_TRUE(a) << a.error().message;
    ASSERT_TRUE(c) << c.error().message;
    std::multiset<std::string> seen;
    for (const auto& d : *a) seen.insert(d.jid);
    for (const auto& d : *c) seen.insert(d.jid);
    EXPECT_EQ(seen.size(), round == 0 ? static_cast<std::size_t>(stale) : 0u);
    EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), seen.size())
        << "a device was reported by both reapers";
  }
  EXPECT_EQ(jids(devices(*s)), std::vector<std::string>{"fresh@iot/x"});
}

TEST_P(StoreTest, CountsReportsAndRecommendations) {
  auto s = open_migrated();
  ASSERT_TRUE(s);
  EXPECT_EQ(reports(*s), 0u);
  write_batch b;
  for (int i = 0; i < 700; ++i)  // several multi-row statements of mixed sizes
    b.reports.push_back(make_report(std::string("r").append(std::to_string(i % 7)),
                                    std::string("s-").append(std::to_string(i)), micros_at(i)));
  b.recommendations.push_back(test::make_recommendation("r1", micros_at(5)));
  b.recommendations.push_back(test::make_recommendation("r2", micros_at(6)));
  apply_ok(*s, b);
  EXPECT_EQ(reports(*s), 700u);
  auto n = s->count_recommendations();
  ASSERT_TRUE(n) << n.error().message;
  EXPECT_EQ(*n, 2u);
}

TEST_P(StoreTest, RefusedBatchWritesNothing) {
  auto s = open_migrated();
  ASSERT_TRUE(s);
  write_batch b = touches({{"a@iot/x", micros_at(1)}});
  b.reports.push_back(make_report("kitchen", "s-1", micros_at(1)));
  status_report bad = make_report("kitchen", "s-2", micros_at(2));
  bad.values.push_back({"co2", std::numeric_limits<double>::quiet_NaN(), "ppm"});
  b.reports.push_back(bad);
  auto r = s->apply(b);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, error_kind::database);
  EXPECT_EQ(reports(*s), 0u);
  EXPECT_TRUE(devices(*s).empty());

  // A room too long for the schema is refused by the engine itself.
  write_batch too_long;
  too_long.touches.push_back({"b@iot/x", "", micros_at(1)});
  too_long.reports.push_back(make_report(std::string(300, 'r'), "s-3", micros_at(3)));
  r = s->apply(too_long);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, error_kind::database) << r.error().message;
  EXPECT_TRUE(devices(*s).empty());
  apply_ok(*s, touches({{"c@iot/x", micros_at(1)}}));  // the connection still works
  EXPECT_EQ(devices(*s).size(), 1u);
}

TEST_P(StoreTest, DescribeNamesTheEngineWithoutThePassword) {
  auto s = open();
  ASSERT_TRUE(s);
  std::string d = s->describe();
  if (GetParam() == engine::sqlite) {
    EXPECT_EQ(d.rfind("sqlite:", 0), 0u) << d;
  } else {
    auto url = store_url::parse(db_->url());
    ASSERT_TRUE(url);
    EXPECT_EQ(d.rfind("mysql://", 0), 0u) << d;
    EXPECT_NE(d.find(":***@"), std::string::npos) << d;
    EXPECT_EQ(d.find(url->password), std::string::npos) << d;
  }
  EXPECT_TRUE(s->ping());
}

INSTANTIATE_TEST_SUITE_P(Engines, StoreTest, ::testing::Values(engine::sqlite, engine::mysql),
                         [](const auto& info) { return test::engine_name(info.param); });

}  // namespace
}  // namespace iotxmpp
