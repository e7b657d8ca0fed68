// iotxmpp simulate across dropped TCP connections with the server still up:
// every device resumes its stream (XEP-0198), the server's h tells it which
// reports are stored, and the run ends with nothing lost and one row each.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/child_process.hpp"
#include "support/tcp_proxy.hpp"
#include "wire/wire_fixture.hpp"

namespace iotxmpp::test {
namespace {

using namespace std::chrono_literals;

TEST(CliSimulateResume, DroppedConnectionsResumeAndLoseNothing) {
  test_server server;
  tcp_proxy relay(server.port());
  const int devices = 4, reports = 2000;
  child_process sim({"simulate", "--server", "127.0.0.1:" + std::to_string(relay.port()), "--count",
                     std::to_string(devices), "--interval", "5ms", "--jitter", "0", "--query-every",
                     "0", "--reports", std::to_string(reports), "--json"});
  // Cut every connection twice while reports flow.
  std::size_t cut = 0;
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 100 && relay.accepted() < static_cast<std::size_t>(devices) * (round + 1);
         ++i)
      std::this_thread::sleep_for(50ms);
    std::this_thread::sleep_for(400ms);
    ASSERT_FALSE(sim.exited()) << sim.err();
    cut += relay.drop_all();
  }
  EXPECT_EQ(cut, static_cast<std::size_t>(2 * devices));
  auto code = sim.wait(60s);
  ASSERT_TRUE(code) << "the run finishes by itself";
  EXPECT_EQ(*code, 0) << sim.err();
  auto j = nlohmann::json::parse(sim.rest(), nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << sim.rest();
  EXPECT_EQ(j["reports"]["sent"], reports);
  EXPECT_EQ(j["reports"]["acknowledged"], reports);
  EXPECT_EQ(j["reports"]["lost"], 0);
  EXPECT_EQ(j["connections"]["disconnects"], 2 * devices);
  EXPECT_EQ(j["connections"]["resumed"], 2 * devices) << "every reconnection resumed";
  EXPECT_EQ(j["failed"], 0);
  // UNIQUE (room, stanza_id): as many rows as reports means each id once.
  EXPECT_EQ(open_test_store(server)->count_reports().value(), static_cast<std::size_t>(reports));
  std::printf("[ resent %d of %d over %zu resumptions ]\n", j["reports"]["resent"].get<int>(),
              reports, cut);
}

}  // namespace
}  // namespace iotxmpp::test
