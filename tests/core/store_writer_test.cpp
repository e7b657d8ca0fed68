// The batched writer: few transactions, completions after commit,
// back-pressure without loss, flush and stop, retries, refused items alone.

#include "core/store/store_writer.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <limits>
#include <mutex>
#include <set>

#include "support/scratch_db.hpp"
#include "support/store_records.hpp"

namespace iotxmpp {
namespace {

using test::engine;
using test::make_report;
using test::micros_at;
using namespace std::chrono_literals;

// A store that records what it committed, can hold apply() at a gate, and
// can fail a number of attempts with a transient error.
struct fake_state {
  std::mutex mutex;
  std::condition_variable cv;
  bool gate_open = true;
  int applying = 0;   // apply() calls waiting at the gate
  int fail_next = 0;  // attempts to fail with error_kind::connect
  int connects = 0;
  std::vector<std::string> ids;  // stanza ids committed, in order
  std::size_t transactions = 0;

  void open_gate() {
    std::lock_guard lock(mutex);
    gate_open = true;
    cv.notify_all();
  }
  void wait_applying() {
    std::unique_lock lock(mutex);
    cv.wait(lock, [&] { return applying > 0; });
  }
  std::size_t committed() {
    std::lock_guard lock(mutex);
    return ids.size();
  }
};

class fake_store final : public store {
 public:
  explicit fake_store(std::shared_ptr<fake_state> s) : s_(std::move(s)) {}
  result<migration_report> migrate() override { return migration_report{}; }
  result<void> apply(const write_batch& batch) override {
    std::unique_lock lock(s_->mutex);
    ++s_->applying;
    s_->cv.notify_all();
    s_->cv.wait(lock, [&] { return s_->gate_open; });
    --s_->applying;
    if (s_->fail_next > 0) {
      --s_->fail_next;
      return fail(error_kind::connect, "fake: connection lost");
    }
    for (const auto& r : batch.reports) s_->ids.push_back(r.stanza_id);
    ++s_->transactions;
    return {};
  }
  result<std::optional<status_report>> latest_report(std::string_view) override {
    return std::optional<status_report>();
  }
  result<std::vector<device_row>> devices(bool) override { return std::vector<device_row>{}; }
  result<std::vector<device_row>> reap(sys_micros, bool) override {
    return std::vector<device_row>{};
  }
  result<std::size_t> count_reports() override { return s_->committed(); }
  result<std::size_t> count_recommendations() override { return std::size_t{0}; }
  result<void> ping() override { return {}; }
  std::string describe() const override { return "fake:"; }

 private:
  std::shared_ptr<fake_state> s_;
};

std::function<result<std::unique_ptr<store>>()> fake_connect(std::shared_ptr<fake_state> s) {
  return [s]() -> result<std::unique_ptr<store>> {
    std::lock_guard lock(s->mutex);
    ++s->connects;
    return std::unique_ptr<store>(std::make_unique<fake_store>(s));
  };
}

write_item report_item(int i) {
  return make_report("room-" + std::to_string(i % 10), "s-" + std::to_string(i), micros_at(i));
}

TEST(StoreWriter, BackPressureRefusesWithoutConsumingThenResumes) {
  auto state = std::make_shared<fake_state>();
  state->gate_open = false;
  store_writer w(fake_connect(state), {.queue_capacity = 4, .max_batch = 2, .max_delay = 1ms});
  std::atomic<int> ok{0};
  auto done = [&](const result<void>& r) { ok += r ? 1 : 0; };

  int submitted = 0;
  write_item refused_item;
  for (;; ++submitted) {
    ASSERT_LT(submitted, 100) << "the queue never filled";
    write_item item = report_item(submitted);
    write_done d = done;
    if (submitted == 0) {
      ASSERT_TRUE(w.try_submit(std::move(item), std::move(d)));
      state->wait_applying();  // the first batch is in flight, held at the gate
      continue;
    }
    if (!w.try_submit(std::move(item), std::move(d))) {
      // Refused: neither the item nor its completion was moved from.
      ASSERT_TRUE(std::holds_alternative<status_report>(item));
      EXPECT_EQ(std::get<status_report>(item).stanza_id, "s-" + std::to_string(submitted));
      EXPECT_EQ(std::get<status_report>(item).values.size(), 3u);
      EXPECT_TRUE(static_cast<bool>(d));
      refused_item = std::move(item);
      break;
    }
  }
  EXPECT_GE(submitted, 4);  // the capacity, plus what the writer took
  EXPECT_LE(submitted, 6);

  std::atomic<bool> ready{false};
  w.when_space([&] { ready = true; });
  std::this_thread::sleep_for(20ms);
  EXPECT_FALSE(ready) << "when_space fired while the queue was still full";
  state->open_gate();
  for (int i = 0; i < 500 && !ready; ++i) std::this_thread::sleep_for(1ms);
  ASSERT_TRUE(ready);
  ASSERT_TRUE(w.try_submit(std::move(refused_item), done));
  w.flush();
  EXPECT_EQ(ok, submitted + 1);
  std::lock_guard lock(state->mutex);
  std::vector<std::string> want;
  for (int i = 0; i <= submitted; ++i) want.push_back("s-" + std::to_string(i));
  EXPECT_EQ(state->ids, want);  // each once, in submission order
}

TEST(StoreWriter, WhenSpaceRunsAtOnceWhileThereIsRoom) {
  auto state = std::make_shared<fake_state>();
  store_writer w(fake_connect(state));
  bool ran = false;
  w.when_space([&] { ran = true; });
  EXPECT_TRUE(ran);
}

TEST(StoreWriter, RetriesTransientFailuresAndLosesNothing) {
  auto state = std::make_shared<fake_state>();
  state->fail_next = 3;
  store_writer w(fake_connect(state), {.max_delay = 1ms, .retry_min = 1ms, .retry_max = 4ms});
  std::atomic<int> ok{0}, failed{0};
  for (int i = 0; i < 1000; ++i)
    w.submit_wait(report_item(i), [&](const result<void>& r) { (r ? ok : failed)++; });
  w.flush();
  EXPECT_EQ(ok, 1000);
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(state->committed(), 1000u);
  auto st = w.stats();
  EXPECT_EQ(st.retries, 3u);
  EXPECT_EQ(st.committed_items, 1000u);
  EXPECT_EQ(st.queued_now, 0u);
  EXPECT_TRUE(st.database_up);
  EXPECT_GE(state->connects, 4);  // reconnects after each failure
}

TEST(StoreWriter, RetryDelaysStayBetweenRetryMinAndRetryMax) {
  // Six failures: jittered doubling from 20 ms capped at 40 ms waits at least
  // 6 x 20 ms (no delay is below retry_min) and at most 6 x 40 ms.
  auto state = std::make_shared<fake_state>();
  state->fail_next = 6;
  store_writer w(fake_connect(state), {.max_delay = 1ms, .retry_min = 20ms, .retry_max = 40ms});
  auto t0 = std::chrono::steady_clock::now();
  std::atomic<int> ok{0};
  w.submit_wait(report_item(1), [&](const result<void>& r) { ok += r ? 1 : 0; });
  w.flush();
  auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(ok, 1);
  EXPECT_EQ(w.stats().retries, 6u);
  EXPECT_GE(waited, 6 * 20ms);
  EXPECT_LT(waited, 6 * 40ms + 500ms);  // slack for a loaded machine
}

TEST(StoreWriter, AfterStopCompletionsFailAtOnce) {
  auto state = std::make_shared<fake_state>();
  store_writer w(fake_connect(state));
  w.stop();
  w.stop();  // idempotent
  std::optional<result<void>> got;
  EXPECT_TRUE(w.try_submit(report_item(1), [&](const result<void>& r) { got = r; }));
  ASSERT_TRUE(got);
  ASSERT_FALSE(*got);
  EXPECT_EQ(got->error().kind, error_kind::internal);
}

// The same writer behaviour against the real engines.
class StoreWriterDb : public ::testing::TestWithParam<engine> {
 protected:
  void SetUp() override {
    db_ = std::make_unique<test::scratch_db>(GetParam(), "writer");
    if (!db_->skip_reason().empty()) GTEST_SKIP() << db_->skip_reason();
    ASSERT_EQ(db_->setup_error(), "");
    reader_ = open();
    ASSERT_TRUE(reader_);
    auto m = reader_->migrate();
    ASSERT_TRUE(m) << m.error().message;
  }
  std::unique_ptr<store> open() {
    auto s = open_store(db_->url());
    EXPECT_TRUE(s) << s.error().message;
    return s ? std::move(*s) : nullptr;
  }
  std::function<result<std::unique_ptr<store>>()> connect() {
    return [url = db_->url()] { return open_store(url); };
  }
  std::size_t count() {
    auto n = reader_->count_reports();
    EXPECT_TRUE(n) << n.error().message;
    return n ? *n : 0;
  }

  std::unique_ptr<test::scratch_db> db_;
  std::unique_ptr<store> reader_;
};

TEST_P(StoreWriterDb, ManyItemsGoInFewTransactions) {
  store_writer w(connect(), {.max_batch = 1000, .max_delay = 20ms});
  std::atomic<int> ok{0};
  for (int i = 0; i < 5000; ++i)
    w.submit_wait(report_item(i), [&](const result<void>& r) { ok += r ? 1 : 0; });
  w.flush();
  EXPECT_EQ(ok, 5000);
  EXPECT_EQ(count(), 5000u);
  auto st = w.stats();
  EXPECT_EQ(st.committed_items, 5000u);
  EXPECT_GE(st.batches, 5u);   // max_batch holds
  EXPECT_LE(st.batches, 60u);  // and batches are not single rows
}

TEST_P(StoreWriterDb, CompletionFiresOnlyOnceItsRowIsVisibleToOthers) {
  store_writer w(connect(), {.max_batch = 16, .max_delay = 1ms});
  // The completions run one at a time on the writer thread, so they may
  // share this connection.
  std::unique_ptr<store> other = open();
  ASSERT_TRUE(other);
  std::atomic<int> visible{0}, invisible{0};
  for (int i = 0; i < 100; ++i) {
    std::string room = "only-" + std::to_string(i);
    w.submit_wait(make_report(room, "s-1", micros_at(i)), [&, room](const result<void>& r) {
      ASSERT_TRUE(r) << r.error().message;
      auto got = other->latest_report(room);
      (got && *got ? visible : invisible)++;
    });
  }
  w.flush();
  EXPECT_EQ(visible, 100);
  EXPECT_EQ(invisible, 0);
}

TEST_P(StoreWriterDb, FlushAndStopCommitEverythingQueued) {
  // A long delay: only flush() and stop() can write the partial batches.
  store_writer w(connect(), {.max_batch = 100000, .max_delay = 60s});
  std::atomic<int> ok{0};
  auto done = [&](const result<void>& r) { ok += r ? 1 : 0; };
  for (int i = 0; i < 300; ++i) ASSERT_TRUE(w.try_submit(report_item(i), done));
  w.flush();
  EXPECT_EQ(ok, 300);
  EXPECT_EQ(count(), 300u);
  for (int i = 300; i < 700; ++i) ASSERT_TRUE(w.try_submit(report_item(i), done));
  w.stop();
  EXPECT_EQ(ok, 700);
  EXPECT_EQ(count(), 700u);
}

TEST_P(StoreWriterDb, RefusedItemFailsAloneAndTheOthersCommit) {
  store_writer w(connect(), {.max_delay = 50ms});
  std::atomic<int> ok{0};
  std::vector<error_kind> errors;
  std::mutex m;
  for (int i = 0; i < 40; ++i) {
    status_report r = make_report("kitchen", "s-" + std::to_string(i), micros_at(i));
    if (i == 17) r.values[0].value = std::numeric_limits<double>::infinity();
    ASSERT_TRUE(w.try_submit(std::move(r), [&](const result<void>& res) {
      if (res) return void(ok++);
      std::lock_guard lock(m);
      errors.push_back(res.error().kind);
    }));
  }
  w.flush();
  EXPECT_EQ(ok, 39);
  EXPECT_EQ(errors, std::vector<error_kind>{error_kind::database});
  EXPECT_EQ(count(), 39u);
}

TEST_P(StoreWriterDb, DeviceChangesKeepTheirOrder) {
  store_writer w(connect(), {.max_delay = 20ms});
  // touch, offline, touch of one device, and presence after offline: all
  // queued together, applied in the order given.
  ASSERT_TRUE(w.try_submit(device_touch{"a@iot/x", "hall", micros_at(1)}));
  ASSERT_TRUE(w.try_submit(device_offline{"a@iot/x", micros_at(2)}));
  ASSERT_TRUE(w.try_submit(device_touch{"a@iot/x", "hall", micros_at(3)}));
  ASSERT_TRUE(w.try_submit(device_touch{"b@iot/x", "hall", micros_at(1)}));
  ASSERT_TRUE(w.try_submit(device_offline{"b@iot/x", micros_at(2)}));
  ASSERT_TRUE(w.try_submit(presence_update{"c@iot/x", true, "", "", micros_at(1)}));
  ASSERT_TRUE(w.try_submit(device_offline{"c@iot/x", micros_at(2)}));
  ASSERT_TRUE(w.try_submit(device_touch{"c@iot/x", "", micros_at(3)}));
  w.flush();
  auto online = reader_->devices(true);
  ASSERT_TRUE(online) << online.error().message;
  ASSERT_EQ(online->size(), 2u);
  EXPECT_EQ((*online)[0].jid, "a@iot/x");
  EXPECT_EQ((*online)[0].last_update, micros_at(3));
  EXPECT_EQ((*online)[1].jid, "c@iot/x");
}

INSTANTIATE_TEST_SUITE_P(Engines, StoreWriterDb, ::testing::Values(engine::sqlite, engine::mysql),
                         [](const auto& info) { return test::engine_name(info.param); });

}  // namespace
}  // namespace iotxmpp
