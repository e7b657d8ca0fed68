// `iotxmpp serve` as a real process (man/iotxmpp-serve.1): SIGTERM while
// devices are still sending commits everything it accepted and exits 0; a
// second signal during that shutdown exits at once; a listen address in use
// is exit 7 with one line on stderr.
//
// The store writer is held with the database's own write lock (BEGIN
// EXCLUSIVE on the SQLite file from another connection), as a long
// transaction of another program would hold it: the server accepts reports
// it cannot commit yet, so that "commits everything accepted" is about
// reports no device has seen acknowledged.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "support/child_process.hpp"
#include "support/eventually.hpp"
#include "support/process.hpp"
#include "support/raw_client.hpp"
#include "support/reporting_device.hpp"
#include "support/serve_process.hpp"
#include "support/sqlite_lock.hpp"
#include "support/test_server.hpp"

namespace iotxmpp::test {
namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

// Devices that report to 127.0.0.1:port, half acknowledged by ping, half by
// XEP-0198, each to a room of its own.
std::vector<std::unique_ptr<reporting_device>> start_devices(unsigned short port, int n) {
  std::vector<std::unique_ptr<reporting_device>> devices;
  for (int i = 0; i < n; ++i) {
    reporting_device_options o;
    o.port = port;
    o.name = "d" + std::to_string(i);
    o.room = "room-" + std::to_string(i);
    o.acks = i % 2 ? ack_by::stream_management : ack_by::ping;
    o.batch = 5;
    o.pause = 5ms;
    devices.push_back(std::make_unique<reporting_device>(o));
  }
  return devices;
}

template <class Pred>
bool all_of(const std::vector<std::unique_ptr<reporting_device>>& devices, Pred pred) {
  return std::all_of(devices.begin(), devices.end(), [&](const auto& d) { return pred(*d); });
}

// How often each id is stored.
std::map<std::string, int> stored_counts(const std::string& db) {
  std::map<std::string, int> n;
  for (auto& id : stored_report_ids(db)) ++n[id];
  return n;
}

TEST(ServeProcess, SigtermWhileDevicesSendCommitsEverythingAcceptedAndExits0) {
  temp_dir dir;
  const std::string db = "sqlite:" + dir.path() + "/serve.db";
  const unsigned short port = raw_client::free_port();
  child_process serve(serve_args(db, port));
  ASSERT_TRUE(listening(port)) << serve.err();
  auto devices = start_devices(port, 4);
  ASSERT_TRUE(eventually(
      [&] { return all_of(devices, [](auto& d) { return d.count().acknowledged >= 50; }); }, 60s))
      << "acknowledgements flow before the test holds the writer";

  // From here the server accepts reports and cannot commit them.
  sqlite_lock lock(db);
  lock.hold();
  ASSERT_TRUE(eventually(
      [&] {
        return all_of(devices, [](auto& d) {
          auto c = d.count();
          return c.accepted >= c.acknowledged + 50;
        });
      },
      60s))
      << "every device has reports accepted and not acknowledged";

  serve.signal(SIGTERM);
  // The devices are told while they are still sending.
  ASSERT_TRUE(eventually([&] { return all_of(devices, [](auto& d) { return d.ended(); }); }, 30s));
  for (auto& d : devices) EXPECT_EQ(d->stream_error(), "system-shutdown") << d->jid();
  // It does not exit while what it accepted waits to be committed...
  EXPECT_FALSE(serve.wait(1s).has_value()) << "exited with reports not committed: " << serve.err();
  // ...and commits it once the database lets it.
  lock.release();
  auto code = serve.wait(60s);
  ASSERT_TRUE(code.has_value()) << "still running after the lock was released: " << serve.err();
  EXPECT_EQ(*code, 0) << serve.err();

  const auto stored = stored_counts(db);
  std::size_t accepted = 0, acknowledged = 0, sent = 0;
  for (auto& d : devices) {
    d->stop();
    EXPECT_EQ(d->problems(), std::vector<std::string>{}) << d->jid();
    auto c = d->count();
    accepted += c.accepted;
    acknowledged += c.acknowledged;
    sent += c.sent;
    for (const auto& id : d->accepted_ids()) {
      auto it = stored.find(id);
      ASSERT_NE(it, stored.end()) << "accepted and not stored: " << id;
      ASSERT_EQ(it->second, 1) << id;
    }
  }
  // Nothing stored that no device sent, and each id once.
  std::size_t rows = 0;
  for (const auto& [id, n] : stored) {
    EXPECT_EQ(n, 1) << id;
    rows += static_cast<std::size_t>(n);
  }
  EXPECT_GE(rows, accepted);
  EXPECT_LE(rows, sent);
  std::printf("[ figures ] SIGTERM: %zu reports sent, %zu acknowledged, %zu accepted, %zu stored\n",
              sent, acknowledged, accepted, rows);
}

// A shutdown has two phases: the sessions close (their network threads
// still run), then the writer commits what they accepted. The database is
// locked so that the second phase lasts; the devices leave, so that the
// first ends at once.
enum class shutdown_phase { sessions_closing, committing };

void second_signal_exits_at_once(shutdown_phase phase) {
  temp_dir dir;
  const std::string db = "sqlite:" + dir.path() + "/serve.db";
  const unsigned short port = raw_client::free_port();
  child_process serve(serve_args(db, port));
  ASSERT_TRUE(listening(port)) << serve.err();
  auto devices = start_devices(port, 2);
  ASSERT_TRUE(eventually(
      [&] { return all_of(devices, [](auto& d) { return d.count().acknowledged >= 20; }); }, 60s));
  sqlite_lock lock(db);
  lock.hold();
  ASSERT_TRUE(eventually(
      [&] {
        return all_of(devices, [](auto& d) {
          auto c = d.count();
          return c.accepted > c.acknowledged;
        });
      },
      60s));
  ASSERT_GT(threads_named(serve.pid(), "iotxmpp-net"), 0u) << "serve names its network threads";
  serve.signal(SIGTERM);
  ASSERT_TRUE(eventually([&] { return all_of(devices, [](auto& d) { return d.ended(); }); }, 30s));
  if (phase == shutdown_phase::committing) {
    // The devices close their connections: the sessions end, the network
    // threads stop, and serve waits for the database.
    for (auto& d : devices) d->drop();
    ASSERT_TRUE(eventually([&] { return threads_named(serve.pid(), "iotxmpp-net") == 0; }, 30s));
  } else {
    // The devices keep their connections open without a word: their
    // sessions linger (2 s) to let them read the stream error.
    ASSERT_GT(threads_named(serve.pid(), "iotxmpp-net"), 0u);
  }
  ASSERT_FALSE(serve.exited()) << "the shutdown waits for the database: " << serve.err();
  // The operator loses patience.
  const auto t0 = steady::now();
  serve.signal(SIGTERM);
  auto code = serve.wait(10s);
  const auto took = steady::now() - t0;
  lock.release();
  ASSERT_TRUE(code.has_value()) << "a second SIGTERM did not end serve within 10 s: "
                                << serve.err();
  // 130: server.cpp's second-signal exit (std::_Exit(130)); the man page
  // says "exits at once" and names no code.
  EXPECT_EQ(*code, 130) << serve.err();
  EXPECT_LT(took, 2s) << "not at once";
}

TEST(ServeProcess, ASecondSignalWhileSessionsCloseExitsAtOnce) {
  second_signal_exits_at_once(shutdown_phase::sessions_closing);
}

TEST(ServeProcess, ASecondSignalWhileCommittingExitsAtOnce) {
  second_signal_exits_at_once(shutdown_phase::committing);
}

TEST(ServeProcess, ListenAddressInUseIsExit7WithOneLine) {
  // A listener of the test's own holds the port.
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), len), 0);
  ASSERT_EQ(::listen(fd, 4), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
  const unsigned short port = ntohs(a.sin_port);

  temp_dir dir;
  auto r = run_iotxmpp(serve_args("sqlite:" + dir.path() + "/serve.db", port), {}, 30s);
  ::close(fd);
  EXPECT_EQ(r.exit_code, 7) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(r.err.rfind("iotxmpp: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("127.0.0.1:" + std::to_string(port)), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("in use"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace iotxmpp::test
