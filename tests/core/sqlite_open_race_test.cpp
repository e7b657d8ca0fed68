// Two connections opening a new SQLite file at once (the server's writer and
// its reader do) both succeed: switching to WAL can report "locked" without
// the busy handler, and open retries it.

#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "core/store/store.hpp"
#include "support/test_server.hpp"

namespace iotxmpp::test {
namespace {

TEST(SqliteOpen, ConcurrentOpensOfANewFileBothSucceed) {
  temp_dir dir;
  for (int i = 0; i < 60; ++i) {
    const std::string url = "sqlite:" + dir.path() + "/race" + std::to_string(i) + ".db";
    std::string other_error;
    std::thread other([&] {
      auto s = open_store(url);
      if (!s) other_error = s.error().message;
    });
    auto s = open_store(url);
    std::string error = s ? "" : s.error().message;
    if (s) {
      auto m = (*s)->migrate();
      if (!m) error = m.error().message;
    }
    other.join();
    ASSERT_EQ(error, "") << "round " << i;
    ASSERT_EQ(other_error, "") << "round " << i;
  }
}

}  // namespace
}  // namespace iotxmpp::test
