// 04: thousands of concurrent bound sessions on loopback, held by the test
// suite's own raw clients, with the memory they cost.

#include <sys/resource.h>

#include <fstream>

#include "core/server/registry.hpp"
#include "wire/wire_fixture.hpp"

namespace iotxmpp::test {
namespace {

long rss_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

TEST(Wire04Scale, TwoThousandConcurrentBoundSessions) {
  constexpr int sessions = 2000;
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur < 2 * sessions + 100)
    GTEST_SKIP() << "open-file limit " << rl.rlim_cur << " too low";

  test_server server([](server_options& o) { o.config.max_negotiating_per_address = sessions; });
  long before = rss_kib();
  std::vector<std::unique_ptr<raw_client>> clients;
  clients.reserve(sessions);
  for (int i = 0; i < sessions; ++i) {
    clients.push_back(std::make_unique<raw_client>("127.0.0.1", server.port()));
    ASSERT_NE(clients.back()->negotiate("d").find("@127.0.0.1/d"), std::string::npos)
        << "session " << i;
  }
  long after = rss_kib();
  EXPECT_EQ(server.get().online().online_count(), static_cast<std::size_t>(sessions));
  double per_session = static_cast<double>(after - before) * 1024.0 / sessions;
  std::printf(
      "[ figures ] %d bound sessions: process RSS +%ld KiB, %.0f bytes per session "
      "(server and test client together)\n",
      sessions, after - before, per_session);
  RecordProperty("bytes_per_session", static_cast<int>(per_session));
  // Generous: this counts the test client's objects as well as the server's.
  EXPECT_LT(per_session, 16 * 1024);

  // All of them still work: every tenth one reports and pings.
  for (int i = 0; i < sessions; i += 10) clients[i]->send(report("scale-" + std::to_string(i)));
  for (int i = 0; i < sessions; i += 10)
    ASSERT_TRUE(sync(*clients[i], std::string("s").append(std::to_string(i))));
  EXPECT_EQ(open_test_store(server)->count_reports().value(),
            static_cast<std::size_t>(sessions / 10));
}

}  // namespace
}  // namespace iotxmpp::test
