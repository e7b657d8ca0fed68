// `simulate` through a database outage (issue 13): MariaDB is killed for
// 30 s under a running simulation. The server holds the reports and answers
// no ping meanwhile; the devices wait for their acks instead of counting
// errors; when the database is back everything is stored and acknowledged,
// and the run ends by itself: 0 lost, 0 errors, exit 0, one row per report.
// A private MariaDB (the shared one serves parallel tests).

#include <gtest/gtest.h>

#include <csignal>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/store/store.hpp"
#include "support/child_process.hpp"
#include "support/private_mariadb.hpp"
#include "support/raw_client.hpp"
#include "support/scratch_db.hpp"

namespace iotxmpp {
namespace {

using namespace std::chrono_literals;

bool listening(unsigned short port) {
  for (int i = 0; i < 500; ++i) {
    try {
      test::raw_client probe("127.0.0.1", port);
      return true;
    } catch (const std::exception&) {
      std::this_thread::sleep_for(20ms);
    }
  }
  return false;
}

TEST(CliSimulateOutage, MariadbKilledFor30sUnderSimulateLosesNothing) {
  std::string why;
  bool misconfigured = false;
  if (test::mariadb_url(why, misconfigured).empty() && !misconfigured)
    GTEST_SKIP() << why;  // run by hand: the MariaDB tests are off
  test::private_mariadb db_server;
  ASSERT_EQ(db_server.run("start"), "");
  test::scratch_db db(db_server.url(), "simoutage");
  ASSERT_EQ(db.setup_error(), "");

  const unsigned short port = test::raw_client::free_port();
  test::child_process serve({"serve", "--db", db.url(), "--listen",
                             "127.0.0.1:" + std::to_string(port), "--max-stanza-rate", "0",
                             "--max-byte-rate", "0"});
  ASSERT_TRUE(listening(port)) << serve.err();
  const int reports = 2000;
  test::child_process sim({"simulate", "--server", "127.0.0.1:" + std::to_string(port), "--count",
                           "10", "--interval", "20ms", "--jitter", "0", "--query-every", "0",
                           "--reports", std::to_string(reports), "--timeout", "2s", "--json"});
  std::this_thread::sleep_for(1s);  // a quarter of the reports stored
  ASSERT_FALSE(sim.exited()) << sim.err();
  ASSERT_EQ(db_server.run("kill"), "");
  std::this_thread::sleep_for(30s);
  ASSERT_FALSE(sim.exited()) << "the devices wait for their acks: " << sim.err();
  ASSERT_EQ(db_server.run("restart"), "");

  auto code = sim.wait(90s);
  ASSERT_TRUE(code) << "the run finishes by itself";
  EXPECT_EQ(*code, 0) << sim.err();
  auto j = nlohmann::json::parse(sim.rest(), nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << sim.rest();
  EXPECT_EQ(j["reports"]["sent"], reports);
  EXPECT_EQ(j["reports"]["acknowledged"], reports);
  EXPECT_EQ(j["reports"]["lost"], 0);
  EXPECT_EQ(j["errors"], 0) << j["first_error"];
  EXPECT_EQ(j["failed"], 0);
  serve.signal(SIGTERM);
  EXPECT_EQ(serve.wait(30s), 0) << serve.err();
  auto st = open_store(db.url());
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ((*st)->count_reports().value_or(0), static_cast<std::size_t>(reports));
}

}  // namespace
}  // namespace iotxmpp
