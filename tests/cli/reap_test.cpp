// iotxmpp reap on both engines: --stale-after, --dry-run, --json, and errors.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/base/clock.hpp"
#include "core/store/store.hpp"
#include "support/process.hpp"
#include "support/scratch_db.hpp"

namespace iotxmpp {
namespace {

using namespace std::chrono_literals;
using test::engine;
using test::run_iotxmpp;

class CliReap : public ::testing::TestWithParam<engine> {
 protected:
  void SetUp() override {
    db_ = std::make_unique<test::scratch_db>(GetParam(), "reap");
    if (!db_->skip_reason().empty()) GTEST_SKIP() << db_->skip_reason();
    ASSERT_EQ(db_->setup_error(), "");
    auto s = open_store(db_->url());
    ASSERT_TRUE(s) << s.error().message;
    store_ = std::move(*s);
    ASSERT_TRUE(store_->migrate());
    auto now =
        std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
    write_batch b;
    b.touches.push_back({"idle@iot.local/a", "attic", now - 10min});
    b.touches.push_back({"recent@iot.local/b", "hall", now - 1min});
    b.touches.push_back({"live@iot.local/c", "", now + 1h});
    ASSERT_TRUE(store_->apply(b));
  }
  std::vector<std::string> jids() {
    std::vector<std::string> out;
    auto d = store_->devices(false);
    EXPECT_TRUE(d);
    if (d)
      for (const auto& row : *d) out.push_back(row.jid);
    return out;
  }

  std::unique_ptr<test::scratch_db> db_;
  std::unique_ptr<store> store_;
};

TEST_P(CliReap, DryRunListsWithoutRemoving) {
  auto r = run_iotxmpp({"reap", "--db", db_->url(), "--dry-run"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("idle@iot.local/a room=attic last_update=", 0), 0u) << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1);
  EXPECT_NE(r.err.find("dry run: 1 device idle for more than 5m"), std::string::npos) << r.err;
  EXPECT_EQ(jids().size(), 3u);
}

TEST_P(CliReap, RemovesStaleDevicesAsJsonAndKeepsReadings) {
  write_batch b;
  status_report rep;
  rep.device_jid = "idle@iot.local/a";
  rep.room = "attic";
  rep.stanza_id = "s-1";
  rep.values = {{"temperature", 20,
                 "\xC2\xB0"
                 "C"}};
  b.reports.push_back(rep);
  ASSERT_TRUE(store_->apply(b));

  auto r = run_iotxmpp({"reap", "--db", db_->url(), "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["jid"], "idle@iot.local/a");
  EXPECT_EQ(j[0]["room"], "attic");
  EXPECT_EQ(j[0]["online"], true);
  EXPECT_EQ(j[0]["last_update"].get<std::string>().size(), 27u);  // 2026-11-24T08:00:00.000000Z
  EXPECT_EQ(jids(), (std::vector<std::string>{"live@iot.local/c", "recent@iot.local/b"}));
  auto n = store_->count_reports();
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 1u);

  // Nothing left to reap: an empty array, still success.
  auto again = run_iotxmpp({"reap", "--db", db_->url(), "--json"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out, "[]\n");
}

TEST_P(CliReap, StaleAfterSetsTheWindow) {
  auto r = run_iotxmpp({"reap", "--db", db_->url(), "--stale-after", "30s"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("idle@iot.local/a"), std::string::npos);
  EXPECT_NE(r.out.find("recent@iot.local/b"), std::string::npos);
  EXPECT_NE(r.err.find("reaped 2 devices idle for more than 30s"), std::string::npos) << r.err;
  EXPECT_EQ(jids(), std::vector<std::string>{"live@iot.local/c"});
}

TEST_P(CliReap, BadStaleAfterIsUsageError) {
  for (const char* bad : {"5x", "-5m", "", "m"}) {
    auto r = run_iotxmpp({"reap", "--db", db_->url(), "--stale-after", bad});
    EXPECT_EQ(r.exit_code, 2) << bad;
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  EXPECT_EQ(jids().size(), 3u);
}

INSTANTIATE_TEST_SUITE_P(Engines, CliReap, ::testing::Values(engine::sqlite, engine::mysql),
                         [](const auto& info) { return test::engine_name(info.param); });

// SQLite only: it keeps any bytes, while MySQL's utf8mb4 columns refuse
// invalid UTF-8 at the door (so there is nothing to replace there).
TEST(CliReapSqlite, JsonReplacesInvalidUtf8FromTheDatabase) {
  test::scratch_db db(engine::sqlite, "reap_utf8");
  auto s = open_store(db.url());
  ASSERT_TRUE(s) << s.error().message;
  ASSERT_TRUE((*s)->migrate());
  write_batch b;
  b.touches.push_back({"odd@iot.local/x", "bad\xFFroom\xC3", clock::wall_now() - 1h});
  ASSERT_TRUE((*s)->apply(b));
  auto r = run_iotxmpp({"reap", "--db", db.url(), "--json", "--dry-run"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"room\":\"bad\xEF\xBF\xBDroom\xEF\xBF\xBD\""), std::string::npos) << r.out;
  auto j = nlohmann::json::parse(r.out);  // valid JSON and valid UTF-8
  ASSERT_TRUE(j.is_array());
}

TEST(CliReapFails, UnreachableDatabaseIsExit3AndNoSchemaIsExit6) {
  std::string url = "mysql://iot:pw@127.0.0.1:" + std::to_string(test::closed_port()) + "/x";
  auto r = run_iotxmpp({"reap", "--db", url});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("connection refused"), std::string::npos) << r.err;

  test::scratch_db empty(engine::sqlite, "reap_empty");
  auto no_schema = run_iotxmpp({"reap", "--db", empty.url()});
  EXPECT_EQ(no_schema.exit_code, 6);
  EXPECT_EQ(std::count(no_schema.err.begin(), no_schema.err.end(), '\n'), 1) << no_schema.err;
  EXPECT_NE(no_schema.err.find("db-init"), std::string::npos) << no_schema.err;
}

}  // namespace
}  // namespace iotxmpp
