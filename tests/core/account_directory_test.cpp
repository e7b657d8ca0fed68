// The account directory's thread against a store that goes away and comes
// back: one warning when it fails, one line when it answers again, not one
// per poll or per login in between.

#include "core/server/account_directory.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <string>
#include <thread>

#include "support/eventually.hpp"
#include "support/log_capture.hpp"
#include "support/scratch_db.hpp"

namespace iotxmpp {
namespace {

using namespace std::chrono_literals;

TEST(AccountDirectory, AStoreDownIsLoggedOnceAndItsReturnOnce) {
  test::scratch_db db(test::engine::sqlite, "account_directory");
  ASSERT_EQ(db.setup_error(), "");
  {
    auto s = open_store(db.url());
    ASSERT_TRUE(s) << s.error().message;
    ASSERT_TRUE((*s)->migrate());
  }
  // Down: a MySQL server that is not there (connection refused at once).
  const std::string nowhere =
      "mysql://iot:pw@127.0.0.1:" + std::to_string(test::closed_port()) + "/iot";
  std::atomic<bool> down{true};
  std::atomic<int> opens{0};
  test::log_capture log;
  log.show(log::level::info);
  account_directory dir(
      [&] {
        ++opens;
        return open_store(down ? nowhere : db.url());
      },
      10ms, nullptr);

  auto ask = [&dir] {
    std::promise<account_directory::found> p;
    auto f = p.get_future();
    dir.lookup("thermo-1", [&p](account_directory::found a) { p.set_value(std::move(a)); });
    EXPECT_EQ(f.wait_for(10s), std::future_status::ready);
    return f.get();
  };
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(ask().keys.state, login_keys::status::unavailable) << "look-up " << i;
  ASSERT_TRUE(test::eventually([&] { return opens >= 20; }, 10s)) << opens;
  EXPECT_EQ(log.count("accounts: "), 1u) << log.text();
  EXPECT_EQ(log.count("accounts: cannot reach the store"), 1u) << log.text();

  down = false;
  ASSERT_NE(log.wait_for({"accounts: the store answers again"}), "") << log.text();
  EXPECT_NE(ask().keys.state, login_keys::status::unavailable);
  std::this_thread::sleep_for(100ms);  // polls that work say nothing more
  EXPECT_EQ(log.count("accounts: "), 2u) << log.text();
}

}  // namespace
}  // namespace iotxmpp
