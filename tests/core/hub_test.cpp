// hub: the room look-up falls back to the reader store, and a reader whose
// connection was lost is replaced (at most once every few seconds).

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "core/server/hub.hpp"
#include "core/store/store.hpp"
#include "core/store/store_writer.hpp"
#include "support/test_server.hpp"

namespace iotxmpp::test {
namespace {

// A reader that knows one room, or has lost its connection.
class fake_reader : public store {
 public:
  explicit fake_reader(bool connected) : connected_(connected) {}
  result<migration_report> migrate() override { return migration_report{}; }
  result<void> apply(const write_batch&) override { return {}; }
  result<std::optional<status_report>> latest_report(std::string_view room) override {
    if (!connected_) return fail(error_kind::connect, "connection lost");
    if (room != "attic") return std::optional<status_report>{};
    status_report r;
    r.room = "attic";
    r.stanza_id = "a1";
    return std::optional<status_report>{r};
  }
  result<std::vector<device_row>> devices(bool) override { return std::vector<device_row>{}; }
  result<std::vector<device_row>> reap(sys_micros, bool) override {
    return std::vector<device_row>{};
  }
  result<std::size_t> count_reports() override { return std::size_t{0}; }
  result<std::size_t> count_recommendations() override { return std::size_t{0}; }
  result<void> ping() override { return {}; }
  std::string describe() const override { return "fake"; }

 private:
  bool connected_;
};

TEST(Hub, LostReaderIsReopenedAndAnswers) {
  temp_dir dir;
  const std::string url = "sqlite:" + dir.path() + "/w.db";
  store_writer writer([url] { return open_store(url); });
  int reopened = 0;
  hub h(server_config{}, rules::defaults(), writer, std::make_unique<fake_reader>(false),
        [&reopened]() -> result<std::unique_ptr<store>> {
          ++reopened;
          return std::unique_ptr<store>(std::make_unique<fake_reader>(true));
        });
  auto found = h.latest("attic");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->stanza_id, "a1");
  EXPECT_EQ(reopened, 1);
  EXPECT_FALSE(h.latest("cellar").has_value());  // connected now: no reopen needed
  EXPECT_EQ(reopened, 1);
}

TEST(Hub, ReopenIsRateLimitedWhileTheDatabaseStaysDown) {
  temp_dir dir;
  const std::string url = "sqlite:" + dir.path() + "/w.db";
  store_writer writer([url] { return open_store(url); });
  int attempts = 0;
  hub h(server_config{}, rules::defaults(), writer, std::make_unique<fake_reader>(false),
        [&attempts]() -> result<std::unique_ptr<store>> {
          ++attempts;
          return fail(error_kind::connect, "still down");
        });
  for (int i = 0; i < 20; ++i) EXPECT_FALSE(h.latest("attic").has_value());
  EXPECT_EQ(attempts, 1);
}

}  // namespace
}  // namespace iotxmpp::test
