// iotxmpp db-init on both engines: what it prints, idempotency, and how it
// fails against a database it cannot reach.

#include <gtest/gtest.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "core/store/mysql_store.hpp"
#include "core/store/store.hpp"
#include "support/process.hpp"
#include "support/scratch_db.hpp"

namespace iotxmpp {
namespace {

using test::engine;
using test::run_iotxmpp;

std::size_t lines(const std::string& s) { return std::count(s.begin(), s.end(), '\n'); }

class CliDbInit : public ::testing::TestWithParam<engine> {
 protected:
  void SetUp() override {
    db_ = std::make_unique<test::scratch_db>(GetParam(), "dbinit");
    if (!db_->skip_reason().empty()) GTEST_SKIP() << db_->skip_reason();
    ASSERT_EQ(db_->setup_error(), "");
    url_ = *store_url::parse(db_->url());
  }
  std::unique_ptr<test::scratch_db> db_;
  store_url url_;
};

TEST_P(CliDbInit, CreatesThenReportsUpToDate) {
  bool mysql = GetParam() == engine::mysql;
  if (mysql) {
    ASSERT_TRUE(mysql_drop_database(url_));  // db-init creates the database too
  }
  std::string where = url_.redacted();
  auto first = run_iotxmpp({"db-init", "--db", db_->url()});
  EXPECT_EQ(first.exit_code, 0) << first.err;
  std::string want = (mysql ? "created database " + where + "\n" : std::string()) +
                     "created schema v5 in " + where + "\n";
  EXPECT_EQ(first.out, want);
  EXPECT_EQ(first.err, "");

  // Again, with the URL from the environment, which keeps the password out of argv.
  auto again = run_iotxmpp({"db-init"}, {}, std::chrono::seconds(30), {"IOTXMPP_DB=" + db_->url()});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out, "schema is up to date (v5) in " + where + "\n");

  auto json = run_iotxmpp({"db-init", "--db", db_->url(), "--json"});
  EXPECT_EQ(json.exit_code, 0) << json.err;
  auto j = nlohmann::json::parse(json.out);
  EXPECT_EQ(j["database"], where);
  EXPECT_EQ(j["created_database"], false);
  EXPECT_EQ(j["action"], "up_to_date");
  EXPECT_EQ(j["from_version"], 5);
  EXPECT_EQ(j["to_version"], 5);
  EXPECT_TRUE(j["applied"].empty());
  if (mysql)
    for (const auto* r : {&first, &again, &json}) {
      EXPECT_EQ(r->out.find(url_.password), std::string::npos) << r->out;
      EXPECT_EQ(r->err.find(url_.password), std::string::npos) << r->err;
    }
}

TEST_P(CliDbInit, MigratesAnOlderSchema) {
  {
    auto s = open_store(url_);
    ASSERT_TRUE(s) << s.error().message;
    ASSERT_TRUE((*s)->migrate_to(1));
  }
  auto r = run_iotxmpp({"db-init", "--db", db_->url(), "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["action"], "migrated");
  EXPECT_EQ(j["from_version"], 1);
  EXPECT_EQ(j["to_version"], 5);
  ASSERT_EQ(j["applied"].size(), 4u);
  EXPECT_EQ(j["applied"][0].get<std::string>().rfind("v2: ", 0), 0u);
  EXPECT_EQ(j["applied"][1].get<std::string>().rfind("v3: ", 0), 0u);
  EXPECT_EQ(j["applied"][2].get<std::string>().rfind("v4: ", 0), 0u);
  EXPECT_EQ(j["applied"][3].get<std::string>().rfind("v5: ", 0), 0u);
}

INSTANTIATE_TEST_SUITE_P(Engines, CliDbInit, ::testing::Values(engine::sqlite, engine::mysql),
                         [](const auto& info) { return test::engine_name(info.param); });

TEST(CliDbInitFails, RefusedPortIsExit3OnOneLine) {
  std::string url =
      "mysql://iot:cli-secret-pw@127.0.0.1:" + std::to_string(test::closed_port()) + "/x";
  auto r = run_iotxmpp({"db-init", "--db", url});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(lines(r.err), 1u) << r.err;
  EXPECT_EQ(r.err.rfind("iotxmpp: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("connection refused"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("cli-secret-pw"), std::string::npos) << r.err;
}

TEST(CliDbInitFails, WrongPasswordIsExit3SayingAccessDenied) {
  std::string why;
  bool misconfigured = false;
  std::string base = test::mariadb_url(why, misconfigured);
  ASSERT_FALSE(misconfigured) << why;
  if (base.empty()) GTEST_SKIP() << why;
  auto url = *store_url::parse(base);
  std::string bad = "mysql://" + url.user + ":not-the-pw@" + url.host + ":" +
                    std::to_string(url.port) + "/" + url.database;
  auto r = run_iotxmpp({"db-init", "--db", bad});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(lines(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find("access denied"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("not-the-pw"), std::string::npos) << r.err;
}

TEST(CliDbInitFails, BadUrlIsUsageAndUnopenableFileIsIo) {
  auto bad = run_iotxmpp({"db-init", "--db", "postgres://a@b/c"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_EQ(lines(bad.err), 1u) << bad.err;
  auto io = run_iotxmpp({"db-init", "--db", "sqlite:/nonexistent-dir/x/iot.db"});
  EXPECT_EQ(io.exit_code, 7);
  EXPECT_EQ(lines(io.err), 1u) << io.err;
  EXPECT_NE(io.err.find("sqlite:/nonexistent-dir/x/iot.db"), std::string::npos) << io.err;
}

}  // namespace
}  // namespace iotxmpp
