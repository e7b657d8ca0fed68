// The database dies mid-stream and comes back: the writer holds every
// report, logs the outage, retries with back-off, and loses nothing.
// Runs a private MariaDB of its own (the shared one serves parallel tests).

#include "core/store/store_writer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "support/private_mariadb.hpp"
#include "support/process.hpp"
#include "support/scratch_db.hpp"
#include "support/store_records.hpp"

namespace iotxmpp {
namespace {

using namespace std::chrono_literals;

using test::private_mariadb;

// Sends this process's stderr (where the log goes) to a file until destroyed.
class stderr_capture {
 public:
  stderr_capture() {
    char path[] = "/tmp/iotxmpp_outage_log_XXXXXX";
    int fd = mkstemp(path);
    path_ = path;
    saved_ = dup(2);
    dup2(fd, 2);
    close(fd);
  }
  ~stderr_capture() {
    restore();
    unlink(path_.c_str());
  }
  std::string text() {
    restore();
    std::ifstream in(path_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

 private:
  void restore() {
    if (saved_ < 0) return;
    dup2(saved_, 2);
    close(saved_);
    saved_ = -1;
  }
  std::string path_;
  int saved_ = -1;
};

TEST(StoreOutage, DatabaseKilledAndRestartedMidStreamLosesNothing) {
  std::string why;
  bool misconfigured = false;
  if (test::mariadb_url(why, misconfigured).empty() && !misconfigured)
    GTEST_SKIP() << why;  // run by hand: the MariaDB tests are off

  private_mariadb server;
  ASSERT_EQ(server.run("start"), "");
  test::scratch_db db(server.url(), "outage");
  ASSERT_EQ(db.setup_error(), "");
  {
    auto s = open_store(db.url());
    ASSERT_TRUE(s) << s.error().message;
    auto m = (*s)->migrate();
    ASSERT_TRUE(m) << m.error().message;
  }

  constexpr int total = 20000;
  std::atomic<int> ok{0}, failed{0};
  std::string log;
  writer_stats stats;
  {
    stderr_capture capture;
    store_writer writer([url = db.url()] { return open_store(url); },
                        {.max_batch = 500, .retry_min = 50ms, .retry_max = 400ms});
    // The producer streams half the reports, waits until the server is
    // killed, then streams the rest into the outage: the kill lands
    // mid-stream with items queued and in flight, however fast the machine.
    std::atomic<bool> killed_flag{false};
    std::thread producer([&] {
      for (int i = 0; i < total; ++i) {
        if (i == total / 2)
          while (!killed_flag) std::this_thread::sleep_for(1ms);
        writer.submit_wait(test::make_report("room-" + std::to_string(i % 50),
                                             "s-" + std::to_string(i), test::micros_at(i)),
                           [&](const result<void>& r) { (r ? ok : failed)++; });
      }
    });
    auto give_up = std::chrono::steady_clock::now() + 20s;
    while (ok < total / 4 && std::chrono::steady_clock::now() < give_up)
      std::this_thread::sleep_for(1ms);
    std::string killed = server.run("kill");
    int at_kill = ok;
    killed_flag = true;
    std::this_thread::sleep_for(1s);  // down long enough for several retries
    std::string restarted = server.run("restart");
    producer.join();
    writer.flush();
    stats = writer.stats();
    log = capture.text();
    ASSERT_EQ(killed, "");
    ASSERT_EQ(restarted, "");
    EXPECT_GE(at_kill, total / 4);
    EXPECT_LE(at_kill, total / 2);  // the second half streams into the outage
  }
  EXPECT_EQ(failed, 0) << log;
  EXPECT_EQ(ok, total);
  EXPECT_GE(stats.retries, 2u) << log;
  EXPECT_EQ(stats.committed_items, static_cast<std::uint64_t>(total));
  EXPECT_NE(log.find("database unavailable"), std::string::npos) << log;
  EXPECT_NE(log.find("database available again"), std::string::npos) << log;
  EXPECT_EQ(log.find("iotxmpp-test-pw"), std::string::npos) << log;

  auto s = open_store(db.url());
  ASSERT_TRUE(s) << s.error().message;
  auto n = (*s)->count_reports();
  ASSERT_TRUE(n) << n.error().message;
  EXPECT_EQ(*n, static_cast<std::size_t>(total));
}

}  // namespace
}  // namespace iotxmpp
