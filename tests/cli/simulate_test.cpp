// iotxmpp simulate end to end: the binary against an in-process server on
// port 0, its JSON summary, what lands in the store, exit codes.

#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/store/store.hpp"
#include "support/child_process.hpp"
#include "support/eventually.hpp"
#include "support/process.hpp"
#include "support/raw_client.hpp"
#include "support/scratch_db.hpp"
#include "support/serve_process.hpp"
#include "support/test_server.hpp"

namespace iotxmpp {
namespace {

using namespace std::chrono_literals;
using test::listening;
using test::run_iotxmpp;
using test::serve_args;
using test::test_server;

std::string address(const test_server& s) { return "127.0.0.1:" + std::to_string(s.port()); }

std::size_t stored_reports(const test_server& s) {
  auto st = open_store(s.store_url());
  EXPECT_TRUE(st) << st.error().message;
  auto n = (*st)->count_reports();
  EXPECT_TRUE(n) << n.error().message;
  return n.value_or(0);
}

nlohmann::json summary_of(const test::process_result& r) {
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << "stdout is not JSON: " << r.out;
  return j;
}

TEST(CliSimulate, FastRunJsonSummaryAndEveryReportStored) {
  test_server server;
  auto r = run_iotxmpp({"simulate", "--server", address(server), "--count", "20", "--reports",
                        "200", "--interval", "0", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find('\r'), std::string::npos) << "no progress line when not on a terminal";
  auto j = summary_of(r);
  EXPECT_EQ(j["devices"], 20);
  EXPECT_EQ(j["failed"], 0);
  EXPECT_EQ(j["peak_connected"].get<int>() > 0, true);
  EXPECT_EQ(j["reports"]["sent"], 200);
  EXPECT_EQ(j["reports"]["acknowledged"], 200);
  EXPECT_EQ(j["reports"]["rejected"], 0);
  EXPECT_EQ(j["errors"], 0);
  EXPECT_TRUE(j["first_error"].is_null());
  EXPECT_TRUE(j["reports_per_second"].is_number());
  EXPECT_GT(j["reports_per_second"].get<double>(), 0);
  EXPECT_TRUE(j["elapsed_seconds"].is_number());
  EXPECT_TRUE(j["run_id"].is_string());
  ASSERT_TRUE(j["recommendations"].is_object());
  EXPECT_TRUE(j["recommendations"]["asked"].is_number());
  EXPECT_TRUE(j["recommendations"]["rtt_ms"].contains("p50"));
  EXPECT_TRUE(j["recommendations"]["rtt_ms"].contains("p99"));
  // Acknowledged means committed: the rows are there before the server stops.
  EXPECT_EQ(stored_reports(server), 200u);
}

TEST(CliSimulate, TwoRunsNeverCollideOnReportIds) {
  test_server server;
  std::vector<std::string> args{"simulate", "--server",  address(server), "--count",
                                "5",        "--reports", "100",           "--interval",
                                "0",        "--json",    "--seed",        "7"};
  auto first = run_iotxmpp(args);
  auto second = run_iotxmpp(args);  // same seed, same rooms: only the run id differs
  ASSERT_EQ(first.exit_code, 0) << first.err;
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_NE(summary_of(first)["run_id"], summary_of(second)["run_id"]);
  EXPECT_EQ(stored_reports(server), 200u) << "a new report taken for a resend is lost";
}

TEST(CliSimulate, QueriesRecommendationsAndMeasuresTheRoundTrip) {
  test_server server;
  auto r = run_iotxmpp({"simulate", "--server", address(server), "--count", "3", "--interval",
                        "100ms", "--query-every", "200ms", "--duration", "1500ms", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = summary_of(r);
  auto answered = j["recommendations"]["answered"].get<int>();
  EXPECT_GE(answered, 3);
  EXPECT_EQ(j["recommendations"]["asked"], answered);
  ASSERT_TRUE(j["recommendations"]["rtt_ms"]["p50"].is_number());
  EXPECT_GE(j["recommendations"]["rtt_ms"]["p99"].get<double>(),
            j["recommendations"]["rtt_ms"]["p50"].get<double>());
  // Every device reported on its interval: about 15 each in 1.5 s.
  EXPECT_GE(j["reports"]["acknowledged"].get<int>(), 3 * 8);
  server.stop();
  auto st = open_store(server.store_url());
  ASSERT_TRUE(st);
  EXPECT_GE((*st)->count_recommendations().value_or(0), static_cast<std::size_t>(answered));
  auto latest = (*st)->latest_report("room-0002");
  ASSERT_TRUE(latest && *latest);
  EXPECT_EQ((*latest)->values.size(), 3u);
}

TEST(CliSimulate, TextSummaryByDefault) {
  test_server server;
  auto r = run_iotxmpp({"simulate", "--server", address(server), "--count", "2", "--reports", "10",
                        "--interval", "0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("10 sent, 10 stored"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("reports/s"), std::string::npos) << r.out;
}

TEST(CliSimulate, SigintEndsTheRunWithASummary) {
  test_server server;
  // --foreground: without it timeout(1) signals its whole process group as
  // well, so the run would see two SIGINTs (the second ends it at once).
  auto r = test::run_process({"timeout", "--foreground", "--preserve-status", "-s", "INT", "3",
                              IOTXMPP_BINARY, "simulate", "--server", address(server), "--count",
                              "4", "--interval", "50ms", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = summary_of(r);
  EXPECT_GT(j["reports"]["acknowledged"].get<int>(), 0);
  EXPECT_EQ(j["reports"]["acknowledged"], j["reports"]["sent"])
      << "drained before closing: " << r.out;
  EXPECT_EQ(j["failed"], 0);
}

TEST(CliSimulate, UnreachableServerFailsWithConnectExitCode) {
  std::string port;
  {
    test_server gone;  // a port that was free a moment ago and is closed now
    port = std::to_string(gone.port());
  }
  auto r = run_iotxmpp(
      {"simulate", "--server", "127.0.0.1:" + port, "--count", "3", "--timeout", "2s", "--json"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("cannot connect"), std::string::npos) << r.err;
  auto j = summary_of(r);
  EXPECT_EQ(j["failed"], 3);
  EXPECT_EQ(j["reports"]["sent"], 0);
}

TEST(CliSimulate, BadFlagsAreUsageErrors) {
  for (std::vector<std::string> bad : {std::vector<std::string>{"--count", "0"},
                                       {"--interval", "banana"},
                                       {"--duration", "-5s"},
                                       {"--window", "0"},
                                       {"--ramp", "-1"},
                                       {"--interval", "1s", "--jitter", "2s"},
                                       {"--no-such-flag"},
                                       {"--server", "[::1"},
                                       {"--timeout", "0"}}) {
    std::vector<std::string> args{"simulate", "--server", "127.0.0.1:9"};
    args.insert(args.end(), bad.begin(), bad.end());
    auto r = run_iotxmpp(args);
    EXPECT_EQ(r.exit_code, 2) << bad[0] << ": " << r.err;
    EXPECT_EQ(r.err.rfind("iotxmpp: ", 0), 0u) << r.err;
  }
}

// Rows in the readings table of `url`, through a connection of its own
// (opened once per call: a poll every few ms costs little on either engine).
std::size_t rows_in(const std::string& url) {
  auto st = open_store(url);
  if (!st) return 0;
  return (*st)->count_reports().value_or(0);
}

class CliSimulateKill : public ::testing::TestWithParam<test::engine> {};

// SIGKILL `serve` under `simulate`, then start it again on the same port and
// database: the same simulate run reconnects, resends what was not
// acknowledged, finishes by itself with nothing lost and exits 0, and the
// database holds exactly one row per report (UNIQUE (room, stanza_id): as
// many rows as reports means each id once).
TEST_P(CliSimulateKill, ServeKilledAndRestartedMidRunLosesNothing) {
  test::scratch_db db(GetParam(), "simkill");
  if (!db.setup_error().empty()) FAIL() << db.setup_error();
  if (!db.skip_reason().empty()) GTEST_SKIP() << db.skip_reason();
  const unsigned short port = test::raw_client::free_port();
  const int reports = 3000;
  auto serve = std::make_unique<test::child_process>(serve_args(db.url(), port));
  ASSERT_TRUE(listening(port)) << serve->err();
  test::child_process sim({"simulate", "--server", "127.0.0.1:" + std::to_string(port), "--count",
                           "5", "--interval", "5ms", "--jitter", "0", "--query-every", "0",
                           "--reports", std::to_string(reports), "--json"});
  // The kill lands mid-run: a sixth of the reports stored, however fast
  // or slow the machine is today.
  ASSERT_TRUE(
      test::eventually([&] { return rows_in(db.url()) >= reports / 6 || sim.exited(); }, 30s))
      << sim.err();
  ASSERT_FALSE(sim.exited()) << sim.err();
  serve->signal(SIGKILL);
  ASSERT_EQ(serve->wait(5s), 128 + SIGKILL);
  std::this_thread::sleep_for(300ms);  // refused reconnections meanwhile
  serve = std::make_unique<test::child_process>(serve_args(db.url(), port));
  auto code = sim.wait(30s);
  ASSERT_TRUE(code) << "the run finishes by itself";
  EXPECT_EQ(*code, 0) << sim.err();
  auto j = nlohmann::json::parse(sim.rest(), nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << sim.rest();
  EXPECT_EQ(j["reports"]["sent"], reports);
  EXPECT_EQ(j["reports"]["acknowledged"], reports);
  EXPECT_EQ(j["reports"]["lost"], 0);
  EXPECT_EQ(j["failed"], 0);
  EXPECT_EQ(j["errors"], 0) << j["first_error"];
  EXPECT_GE(j["connections"]["disconnects"].get<int>(), 5);
  EXPECT_GE(j["connections"]["reconnects"].get<int>(), 5);
  std::printf("[ resent %d of %d after SIGKILL ]\n", j["reports"]["resent"].get<int>(), reports);
  serve->signal(SIGTERM);
  EXPECT_EQ(serve->wait(10s), 0) << serve->err();
  auto st = open_store(db.url());
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ((*st)->count_reports().value_or(0), static_cast<std::size_t>(reports));
}

INSTANTIATE_TEST_SUITE_P(Engines, CliSimulateKill,
                         ::testing::Values(test::engine::sqlite, test::engine::mysql),
                         [](const auto& info) { return test::engine_name(info.param); });

// A device that loses what it sent exits 1 and says so: the server is
// frozen (SIGSTOP) while reports flow, so that reports are in flight that no
// one will acknowledge, then SIGKILLed and never comes back; the run is
// stopped (SIGINT) with a short drain.
TEST(CliSimulate, ReportsLostWhenTheServerNeverComesBackExit1) {
  test::temp_dir dir;
  const std::string db = "sqlite:" + dir.path() + "/gone.db";
  const unsigned short port = test::raw_client::free_port();
  test::child_process serve(serve_args(db, port));
  ASSERT_TRUE(listening(port)) << serve.err();
  const int devices = 2, window = 8;
  test::child_process sim({"simulate", "--server", "127.0.0.1:" + std::to_string(port), "--count",
                           std::to_string(devices), "--interval", "0", "--window",
                           std::to_string(window), "--query-every", "0", "--drain-timeout", "500ms",
                           "--json"});
  // Reports are being stored: the devices are bound and sending.
  ASSERT_TRUE(test::eventually([&] { return rows_in(db) > 0 || sim.exited(); }, 30s)) << sim.err();
  ASSERT_FALSE(sim.exited()) << sim.err();
  serve.signal(SIGSTOP);
  // Frozen, it acknowledges nothing more. A device that had reports read and
  // not yet acknowledged has lost them already; one that had everything
  // acknowledged sends its next report at once (--interval 0), which stays
  // unread: it is lost too. Wait for such bytes, or for a generous while, in
  // which every device of the second kind has surely run.
  (void)test::eventually(
      [&] {
        auto unread = test::unread_by_server(port);
        return std::any_of(unread.begin(), unread.end(), [](std::size_t n) { return n > 0; });
      },
      5s);
  serve.signal(SIGKILL);
  ASSERT_EQ(serve.wait(10s), 128 + SIGKILL);
  const std::size_t stored = rows_in(db);
  sim.signal(SIGINT);
  auto code = sim.wait(30s);
  ASSERT_TRUE(code) << "the run ends after its drain";
  auto j = nlohmann::json::parse(sim.rest(), nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << sim.rest();
  const int sent = j["reports"]["sent"].get<int>();
  const int acknowledged = j["reports"]["acknowledged"].get<int>();
  const int lost = j["reports"]["lost"].get<int>();
  EXPECT_EQ(lost, sent - acknowledged);
  EXPECT_GE(lost, 1) << "reports were in flight at the kill: " << sim.rest();
  EXPECT_LE(lost, devices * window) << "at most a window per device is in flight";
  EXPECT_GE(stored, static_cast<std::size_t>(acknowledged)) << "an acknowledged report is stored";
  EXPECT_EQ(*code, 1) << sim.err();
  EXPECT_NE(sim.err().find("reports lost"), std::string::npos) << sim.err();
}

}  // namespace
}  // namespace iotxmpp
