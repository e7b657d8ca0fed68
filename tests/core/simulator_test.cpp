// The simulator over real sockets against an in-process server.

#include "core/client/simulator.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "core/store/store.hpp"
#include "support/eventually.hpp"
#include "support/tcp_proxy.hpp"
#include "support/test_server.hpp"

namespace iotxmpp {
namespace {

using namespace std::chrono_literals;
using test::eventually;

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
  // Every device connected, ten reports each and some answers: a run well
  // under way, however long the machine takes to get there.
  ASSERT_TRUE(eventually(
      [&] {
        auto s = (*sim)->stats();
        return s.connected == 10 && s.reports_sent > 10u * 10 && s.queries_answered > 10;
      },
      30s))
      << "connected " << (*sim)->stats().connected << ", sent " << (*sim)->stats().reports_sent;
  EXPECT_FALSE((*sim)->wait_for(200ms)) << "no limit: runs until stopped";
  EXPECT_FALSE((*sim)->stats().finished);
  (*sim)->stop();
  ASSERT_TRUE((*sim)->wait_for(10s));
  auto s = (*sim)->stats();
  EXPECT_TRUE(s.finished);
  EXPECT_GT(s.reports_sent, 10u * 10);
  EXPECT_EQ(s.reports_acknowledged, s.reports_sent);
  EXPECT_GT(s.queries_answered, 10u);
  EXPECT_TRUE(s.rtt_p50_ms && s.rtt_p99_ms);
  EXPECT_EQ(s.errors, 0u) << s.first_error;
  EXPECT_GE(s.elapsed_seconds, 0.2);
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
  ASSERT_TRUE((*sim)->wait_for(30s)) << "the duration ends the run";
  EXPECT_GE(std::chrono::steady_clock::now() - started, 400ms);
  // Generous for a loaded machine; a run that ignored its duration would
  // go on until stopped.
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
  EXPECT_GT((*sim)->stats().reports_acknowledged, 0u);
}

std::size_t rows_in(const std::string& store_url) {
  auto st = open_store(store_url);
  EXPECT_TRUE(st) << st.error().message;
  return st ? (*st)->count_reports().value_or(0) : 0;
}

// The server stops (system-shutdown to every session) and another starts on
// the same port and database: the same run reconnects, resends what was not
// acknowledged, and finishes by itself with nothing lost.
TEST(Simulator, ServerRestartOnTheSamePortLosesNothing) {
  test::temp_dir dir;
  const std::string db = "sqlite:" + dir.path() + "/restart.db";
  auto on_db = [&](server_options& o) { o.store_url = db; };
  auto first = std::make_unique<test::test_server>(on_db);
  const unsigned short port = first->port();
  auto o = against(*first);
  o.count = 4;
  o.interval = 2ms;
  o.jitter = 0s;
  o.window = 16;
  o.reports = 1500;
  o.query_every = 0s;
  o.reconnect = {50ms, 500ms, 0.5};
  auto sim = simulator::start(o);
  ASSERT_TRUE(sim);
  ASSERT_TRUE(eventually([&] { return (*sim)->stats().reports_acknowledged >= 200; }));
  first->stop();  // system-shutdown to every device
  ASSERT_TRUE(eventually([&] { return (*sim)->stats().reconnecting == 4; }))
      << "every device waits to reconnect";
  EXPECT_FALSE((*sim)->stats().finished) << "a lost connection does not end a device";
  std::this_thread::sleep_for(300ms);  // refused attempts meanwhile
  test::test_server second([&](server_options& so) {
    on_db(so);
    so.config.listen = {"127.0.0.1:" + std::to_string(port)};
  });
  ASSERT_TRUE((*sim)->wait_for(20s));
  auto s = (*sim)->stats();
  EXPECT_EQ(s.failed, 0u) << s.first_error;
  EXPECT_EQ(s.reports_sent, 1500u);
  EXPECT_EQ(s.reports_acknowledged, 1500u);
  EXPECT_EQ(s.reports_lost, 0u);
  EXPECT_EQ(s.errors, 0u) << s.first_error;
  EXPECT_GE(s.disconnects, 4u);
  EXPECT_GE(s.reconnects, 4u);
  EXPECT_NE(s.first_disconnect.find("system-shutdown"), std::string::npos) << s.first_disconnect;
  second.stop();
  EXPECT_EQ(rows_in(db), 1500u) << "one row per report: resends were stored once";
}

// A relay between devices and server cuts every connection (reset) while
// reports are in flight; the server stays up. Devices reconnect through it,
// resend, and lose nothing; the server stores each resent report once.
TEST(Simulator, DroppedTcpConnectionsAreResumedAndLoseNothing) {
  test::test_server server;
  test::tcp_proxy relay(server.port());
  auto o = against(server);
  o.client.server = {"127.0.0.1", relay.port()};
  o.count = 5;
  o.interval = 0s;
  o.window = 32;
  o.reports = 20000;
  o.query_every = 0s;
  o.reconnect = {20ms, 200ms, 0.5};
  auto sim = simulator::start(o);
  ASSERT_TRUE(sim);
  std::uint64_t cut_at = 0;
  for (int cut = 0; cut < 3; ++cut) {
    ASSERT_TRUE(eventually([&] {
      auto s = (*sim)->stats();
      return s.connected == 5 && s.reports_acknowledged > cut_at + 1000;
    })) << "cut "
        << cut;
    cut_at = (*sim)->stats().reports_acknowledged;
    EXPECT_EQ(relay.drop_all(), 5u);
  }
  ASSERT_TRUE((*sim)->wait_for(30s));
  auto s = (*sim)->stats();
  EXPECT_EQ(s.failed, 0u) << s.first_error;
  EXPECT_EQ(s.reports_acknowledged, 20000u);
  EXPECT_EQ(s.reports_lost, 0u);
  EXPECT_EQ(s.errors, 0u) << s.first_error;
  EXPECT_GE(s.disconnects, 15u);
  EXPECT_GE(s.reconnects, 15u);
  // The server still holds each stream (XEP-0198): every reconnection
  // resumes it, and the server's h says which reports are stored, so only
  // those it never read are sent again (the restart tests cover resending
  // on a fresh stream).
  EXPECT_EQ(s.resumes, s.reconnects);
  EXPECT_GE(relay.accepted(), 20u);
  EXPECT_EQ(rows_in(server.store_url()), 20000u);
}

// A server that never comes back (the relay refuses every new connection)
// while reports are in flight: stop() waits drain_timeout for the outstanding
// acknowledgements, reconnecting in vain, then counts what is left as lost.
TEST(Simulator, ServerGoneForGoodCountsTheUnacknowledgedAsLost) {
  test::test_server server;
  test::tcp_proxy relay(server.port());
  auto o = against(server);
  o.client.server = {"127.0.0.1", relay.port()};
  o.count = 2;
  o.interval = 0s;
  o.window = 16;
  o.query_every = 0s;
  o.drain_timeout = 500ms;
  o.reconnect = {20ms, 100ms, 0.5};
  auto sim = simulator::start(o);
  ASSERT_TRUE(sim);
  ASSERT_TRUE(eventually([&] { return (*sim)->stats().reports_acknowledged >= 100; }));
  relay.refuse_new(true);
  relay.drop_all();
  ASSERT_TRUE(eventually([&] { return (*sim)->stats().reconnecting == 2; }));
  auto held = (*sim)->stats().reports_unacknowledged;
  EXPECT_GT(held, 0u) << "reports were in flight at the cut";
  EXPECT_LE(held, 2u * 16) << "at most the window per device";
  auto started = std::chrono::steady_clock::now();
  (*sim)->stop();
  ASSERT_TRUE((*sim)->wait_for(10s));
  auto waited = std::chrono::steady_clock::now() - started;
  EXPECT_GE(waited, 450ms) << "waited for the acknowledgements";
  EXPECT_LT(waited, 5s) << "bounded by drain_timeout";
  auto s = (*sim)->stats();
  EXPECT_EQ(s.failed, 0u);
  EXPECT_EQ(s.reports_lost, held);
  EXPECT_EQ(s.reports_lost, s.reports_sent - s.reports_acknowledged);
}

// The reconnect schedule of a simulated device: capped exponential back-off
// with jitter, so a fleet that lost its server does not come back in step.
TEST(Simulator, ReconnectBackoffDoublesUpToItsCapWithJitter) {
  simulator_options o;
  EXPECT_EQ(o.reconnect.initial, 200ms);
  EXPECT_EQ(o.reconnect.max, 5000ms);
  EXPECT_GT(o.reconnect.jitter, 0.0);
  backoff b(o.reconnect, 7);
  for (long base : {200, 400, 800, 1600, 3200, 5000, 5000, 5000}) {
    auto d = b.next().count();
    EXPECT_LE(d, base);
    EXPECT_GE(d, static_cast<long>(base * (1 - o.reconnect.jitter)));
  }
  b.reset();  // after a bind
  EXPECT_LE(b.next(), 200ms);
  // Two devices' delays differ.
  backoff x(o.reconnect, 1), y(o.reconnect, 2);
  int differ = 0;
  for (int i = 0; i < 10; ++i) differ += x.next() != y.next();
  EXPECT_GE(differ, 8);
}

TEST(Simulator, RunIdsDiffer) {
  EXPECT_NE(new_run_id(), new_run_id());
  EXPECT_LT(new_run_id().size(), 20u) << "short: it is in every report id";
}

}  // namespace
}  // namespace iotxmpp
