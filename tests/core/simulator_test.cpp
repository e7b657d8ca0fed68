// The simulator over real sockets against an in-process server.

#include "core/client/simulator.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "core/store/store.hpp"
#include "support/test_server.hpp"

namespace iotxmpp {
namespace {

using namespace std::chrono_literals;

simulator_options against(const test::test_server& s) {
  simulator_options o;
  o.client.server = {"127.0.0.1", s.port()};
  o.reply_timeout = 5s;
  o.threads = 2;
  return o;
}

TEST(Simulator, RefusesNonsenseOptions) {
  simulator_options o;
  o.count = 0;
  EXPECT_EQ(simulator::start(o).error().kind, error_kind::usage);
  o = {};
  o.window = 0;
  EXPECT_EQ(simulator::start(o).error().kind, error_kind::usage);
  o = {};
  o.interval = -1s;
  EXPECT_EQ(simulator::start(o).error().kind, error_kind::usage);
}

TEST(Simulator, ReportLimitIsExactAndEveryReportIsStored) {
  test::test_server server;
  auto o = against(server);
  o.count = 7;
  o.interval = 0s;
  o.window = 8;
  o.reports = 333;  // not a multiple of anything
  auto sim = simulator::start(o);
  ASSERT_TRUE(sim) << sim.error().message;
  ASSERT_TRUE((*sim)->wait_for(30s));
  auto s = (*sim)->stats();
  EXPECT_TRUE(s.finished);
  EXPECT_EQ(s.reports_sent, 333u);
  EXPECT_EQ(s.reports_acknowledged, 333u);
  EXPECT_EQ(s.failed, 0u);
  EXPECT_EQ(s.errors, 0u) << s.first_error;
  EXPECT_EQ(s.peak_connected, 7u);
  EXPECT_EQ(s.connected, 0u) << "every device closed its stream";
  auto st = open_store(server.store_url());
  ASSERT_TRUE(st);
  EXPECT_EQ((*st)->count_reports().value_or(0), 333u);
}

TEST(Simulator, StopEndsAnOpenEndedRunAfterDraining) {
  test::test_server server;
  auto o = against(server);
  o.count = 10;
  o.interval = 20ms;
  o.jitter = 5ms;
  o.query_every = 50ms;
  auto sim = simulator::start(o);
  ASSERT_TRUE(sim);
  EXPECT_FALSE((*sim)->wait_for(700ms)) << "no limit: runs until stopped";
  auto during = (*sim)->stats();
  EXPECT_EQ(during.connected, 10u);
  EXPECT_FALSE(during.finished);
  (*sim)->stop();
  ASSERT_TRUE((*sim)->wait_for(10s));
  auto s = (*sim)->stats();
  EXPECT_GT(s.reports_sent, 10u * 10);
  EXPECT_EQ(s.reports_acknowledged, s.reports_sent);
  EXPECT_GT(s.queries_answered, 10u);
  EXPECT_TRUE(s.rtt_p50_ms && s.rtt_p99_ms);
  EXPECT_EQ(s.errors, 0u) << s.first_error;
  EXPECT_GE(s.elapsed_seconds, 0.7);
}

TEST(Simulator, DurationEndsTheRun) {
  test::test_server server;
  auto o = against(server);
  o.count = 3;
  o.interval = 100ms;
  o.duration = 400ms;
  auto started = std::chrono::steady_clock::now();
  auto sim = simulator::start(o);
  ASSERT_TRUE(sim);
  ASSERT_TRUE((*sim)->wait_for(10s));
  EXPECT_GE(std::chrono::steady_clock::now() - started, 400ms);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
  EXPECT_GT((*sim)->stats().reports_acknowledged, 0u);
}

TEST(Simulator, ServerShutdownCountsAsFailedDevices) {
  auto server = std::make_unique<test::test_server>();
  auto o = against(*server);
  o.count = 4;
  o.interval = 20ms;
  auto sim = simulator::start(o);
  ASSERT_TRUE(sim);
  while ((*sim)->stats().connected < 4) std::this_thread::sleep_for(10ms);
  server->stop();  // system-shutdown to every session
  ASSERT_TRUE((*sim)->wait_for(10s)) << "every device gone: the run ends by itself";
  auto s = (*sim)->stats();
  EXPECT_EQ(s.failed, 4u);
  EXPECT_NE(s.first_error.find("system-shutdown"), std::string::npos) << s.first_error;
}

TEST(Simulator, RunIdsDiffer) {
  EXPECT_NE(new_run_id(), new_run_id());
  EXPECT_LT(new_run_id().size(), 20u) << "short: it is in every report id";
}

}  // namespace
}  // namespace iotxmpp
