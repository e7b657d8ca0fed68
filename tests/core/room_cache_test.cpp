// room_cache: answers from memory, keeps the newest report per room, evicts
// the least recently updated room, reads rooms it does not hold on its own
// thread (never the caller's), coalesces look-ups of one room, and replaces a
// reader whose connection was lost (at most once every few seconds).

#include "core/server/room_cache.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/store/store.hpp"

namespace iotxmpp {
namespace {

using namespace std::chrono_literals;

status_report report(std::string room, std::string id, int seconds) {
  status_report r;
  r.room = std::move(room);
  r.stanza_id = std::move(id);
  r.taken_at.utc = sys_micros(std::chrono::seconds(seconds));
  return r;
}

// A reader that knows one room ("attic"), may have lost its connection, and
// may be held: a look-up then blocks until released (a slow database).
class fake_reader : public store {
 public:
  struct shared {
    std::mutex m;
    std::condition_variable cv;
    bool held = false;
    std::atomic<int> reads{0};
  };
  fake_reader(bool connected, std::shared_ptr<shared> s)
      : connected_(connected), s_(std::move(s)) {}
  result<migration_report> migrate() override { return migration_report{}; }
  result<void> apply(const write_batch&) override { return {}; }
  result<std::optional<status_report>> latest_report(std::string_view room) override {
    ++s_->reads;
    {
      std::unique_lock lock(s_->m);
      s_->cv.wait(lock, [this] { return !s_->held; });
    }
    if (!connected_) return fail(error_kind::connect, "connection lost");
    if (room != "attic") return std::optional<status_report>{};
    return std::optional<status_report>{report("attic", "a1", 100)};
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
  std::shared_ptr<shared> s_;
};

// Waits for one load's answer.
std::optional<status_report> load(room_cache& c, std::string room) {
  std::promise<std::optional<status_report>> p;
  auto f = p.get_future();
  c.load(std::move(room), [&p](std::optional<status_report> r) { p.set_value(std::move(r)); });
  EXPECT_EQ(f.wait_for(5s), std::future_status::ready);
  return f.get();
}

TEST(RoomCache, KeepsTheNewestReportAndEvictsTheLeastRecentlyUpdated) {
  room_cache c(2, {});
  c.remember(report("a", "1", 10));
  c.remember(report("a", "0", 5));  // older: ignored
  EXPECT_EQ(c.find("a").report->stanza_id, "1");
  c.remember(report("b", "1", 10));
  c.remember(report("a", "2", 11));  // a is now the most recently updated
  c.remember(report("c", "1", 10));  // evicts b
  EXPECT_TRUE(c.find("a").known);
  EXPECT_FALSE(c.find("b").known);
  EXPECT_TRUE(c.find("c").known);
}

TEST(RoomCache, WithoutAStoreUnknownRoomsAreUnknownAtOnce) {
  room_cache c(10, {});
  EXPECT_FALSE(load(c, "attic"));
}

TEST(RoomCache, LoadReadsTheStoreAndRemembers) {
  auto s = std::make_shared<fake_reader::shared>();
  room_cache c(10, [s]() -> result<std::unique_ptr<store>> {
    return std::unique_ptr<store>(std::make_unique<fake_reader>(true, s));
  });
  EXPECT_FALSE(c.find("attic").known);
  auto got = load(c, "attic");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->stanza_id, "a1");
  EXPECT_TRUE(c.find("attic").known);  // remembered: the next recommend needs no read
  EXPECT_FALSE(load(c, "cellar"));
  EXPECT_EQ(s->reads.load(), 2);
  // The store had nothing for the cellar: known as empty, no second read,
  // until a report arrives here.
  EXPECT_TRUE(c.find("cellar").known);
  EXPECT_FALSE(c.find("cellar").report);
  c.remember(report("cellar", "c1", 5));
  EXPECT_EQ(c.find("cellar").report->stanza_id, "c1");
  EXPECT_EQ(s->reads.load(), 2);
}

TEST(RoomCache, ARoomTheStoreCouldNotReadIsNotRemembered) {
  int attempts = 0;
  room_cache c(10, [&attempts]() -> result<std::unique_ptr<store>> {
    ++attempts;
    return fail(error_kind::connect, "down");
  });
  EXPECT_FALSE(load(c, "attic"));
  EXPECT_FALSE(c.find("attic").known);  // unknown, not "never reported"
}

TEST(RoomCache, ASlowStoreBlocksNeitherTheCallerNorFind) {
  auto s = std::make_shared<fake_reader::shared>();
  s->held = true;
  room_cache c(10, [s]() -> result<std::unique_ptr<store>> {
    return std::unique_ptr<store>(std::make_unique<fake_reader>(true, s));
  });
  c.remember(report("kitchen", "k", 10));
  std::atomic<int> answered{0};
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 5; ++i)
    c.load("attic", [&answered](std::optional<status_report> r) {
      EXPECT_TRUE(r);
      ++answered;
    });
  EXPECT_TRUE(c.find("kitchen").known);  // other rooms answer while the store is held
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 100ms);
  EXPECT_EQ(answered.load(), 0);
  {
    std::lock_guard lock(s->m);
    s->held = false;
  }
  s->cv.notify_all();
  for (int i = 0; i < 500 && answered.load() < 5; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(answered.load(), 5);
  EXPECT_EQ(s->reads.load(), 1);  // five askers of one room: one read
}

TEST(RoomCache, LostReaderIsReopenedAndAnswers) {
  auto s = std::make_shared<fake_reader::shared>();
  int opened = 0;
  room_cache c(10, [s, &opened]() -> result<std::unique_ptr<store>> {
    // The first connection is lost by the time it is used; the next works.
    return std::unique_ptr<store>(std::make_unique<fake_reader>(opened++ > 0, s));
  });
  auto found = load(c, "attic");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->stanza_id, "a1");
  EXPECT_EQ(opened, 2);
  EXPECT_FALSE(load(c, "cellar"));  // connected now: no reopen needed
  EXPECT_EQ(opened, 2);
}

TEST(RoomCache, ReopenIsRateLimitedWhileTheDatabaseStaysDown) {
  int attempts = 0;
  room_cache c(10, [&attempts]() -> result<std::unique_ptr<store>> {
    ++attempts;
    return fail(error_kind::connect, "still down");
  });
  for (int i = 0; i < 20; ++i) EXPECT_FALSE(load(c, "attic"));
  EXPECT_EQ(attempts, 1);
}

TEST(RoomCache, StopDropsPendingLoadsWithoutCallingThem) {
  auto s = std::make_shared<fake_reader::shared>();
  s->held = true;
  auto c = std::make_unique<room_cache>(10, [s]() -> result<std::unique_ptr<store>> {
    return std::unique_ptr<store>(std::make_unique<fake_reader>(true, s));
  });
  std::atomic<int> called{0};
  c->load("attic", [&called](std::optional<status_report>) { ++called; });
  c->load("cellar", [&called](std::optional<status_report>) { ++called; });
  for (int i = 0; i < 100 && s->reads.load() == 0; ++i) std::this_thread::sleep_for(5ms);
  std::thread releaser([s] {
    std::this_thread::sleep_for(50ms);
    {
      std::lock_guard lock(s->m);
      s->held = false;
    }
    s->cv.notify_all();
  });
  c->stop();
  releaser.join();
  // The look-up in progress may finish; the queued one is dropped.
  EXPECT_LE(called.load(), 1);
  EXPECT_EQ(s->reads.load(), 1);
}

}  // namespace
}  // namespace iotxmpp
