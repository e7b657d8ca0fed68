// The batched writer: few transactions, completions after commit,
// back-pressure without loss, flush and stop, retries, refused items alone.

#include "core/store/store_writer.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <condition_variable>
#include <limits>
#include <mutex>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include "support/scratch_db.hpp"
#include "support/store_records.hpp"

namespace iotxmpp {
namespace {

using test::engine;
using test::make_recommendation;
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
    for (const auto& r : batch.reports)  // refused data, as the real stores refuse it
      for (const auto& v : r.values)
        if (!std::isfinite(v.value)) return fail(error_kind::database, "fake: not finite");
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

// The completion-order promise (write_done in store_writer.hpp), exercised by
// several producer threads at once. Producer 0 sends only urgent items
// (recommendations), so it keeps getting into the reserve while the others
// wait for room; the others send reports with a recommendation and a device
// touch now and then. One report in the middle is refused. The submitting
// calls are serialised under `submit_mutex` so that `queued` is the queue
// order; completions are recorded as they come.
struct order_run {
  static constexpr int producers = 4;
  static constexpr int per_producer = 200;
  static constexpr std::pair<int, int> refused{2, per_producer / 2};

  using key = std::pair<int, int>;  // (producer, index)
  std::mutex submit_mutex;
  std::vector<key> queued;
  int normal_waiting = 0;     // normal items refused for want of room, not yet queued
  int urgent_overtook = 0;    // urgent items queued while a normal one waited
  std::atomic<int> full{0};   // try_submit() calls refused for want of room
  std::mutex complete_mutex;
  std::vector<key> completed;
  std::vector<key> failed;
  std::vector<error_kind> errors;
  std::set<std::thread::id> completion_threads;
  std::vector<key> invisible;  // completed with success, not visible to `visible`
  // Looks a report's room up on another connection (empty: not checked).
  std::function<bool(const std::string& room)> visible;

  static std::string room_of(key k) {
    return "p" + std::to_string(k.first) + "-" + std::to_string(k.second);
  }
  static write_item item_of(key k) {
    auto [p, i] = k;
    if (p == 0 || i % 7 == 3) return make_recommendation(room_of(k), micros_at(i));
    if (i % 10 == 5) return device_touch{"p" + std::to_string(p) + "@iot/x", "", micros_at(i)};
    status_report r = make_report(room_of(k), "s-" + std::to_string(i), micros_at(i));
    if (k == refused) r.values[1].value = std::numeric_limits<double>::quiet_NaN();
    return r;
  }

  void complete(key k, const result<void>& r) {
    bool seen = true;
    if (r && visible && std::holds_alternative<status_report>(item_of(k)))
      seen = visible(room_of(k));
    std::lock_guard lock(complete_mutex);
    completed.push_back(k);
    completion_threads.insert(std::this_thread::get_id());
    if (!seen) invisible.push_back(k);
    if (!r) {
      failed.push_back(k);
      errors.push_back(r.error().kind);
    }
  }

  void produce(store_writer& w, int p) {
    for (int i = 0; i < per_producer; ++i) {
      write_item item = item_of({p, i});
      const bool urgent = std::holds_alternative<recommendation>(item);
      write_done done = [this, k = key{p, i}](const result<void>& r) { complete(k, r); };
      bool waited = false;
      for (;;) {
        {
          std::lock_guard lock(submit_mutex);
          if (w.try_submit(std::move(item), std::move(done), urgent)) {
            queued.push_back({p, i});
            if (waited) --normal_waiting;
            if (urgent && normal_waiting > 0) ++urgent_overtook;
            break;
          }
          ++full;
          if (!urgent && !waited) {
            waited = true;
            ++normal_waiting;
          }
        }
        std::this_thread::sleep_for(50us);  // refused untouched: the same item again
      }
    }
  }

  void run(store_writer& w, const std::function<void()>& while_running = {}) {
    std::vector<std::thread> threads;
    for (int p = 0; p < producers; ++p) threads.emplace_back([this, &w, p] { produce(w, p); });
    if (while_running) while_running();
    for (auto& t : threads) t.join();
    w.flush();
  }

  // The promise: every item completes once, on one thread that is not a
  // producer, in queue order (so each producer's in its own order), the
  // refused one with its error in its place.
  void check() {
    std::lock_guard lock(complete_mutex);
    ASSERT_EQ(queued.size(), std::size_t{producers * per_producer});
    ASSERT_EQ(completed.size(), queued.size()) << "an item completed twice or never";
    for (int p = 0; p < producers; ++p) {
      int next = 0;
      for (const key& k : completed)
        if (k.first == p) {
          ASSERT_EQ(k.second, next) << "producer " << p << ": completion out of its order";
          ++next;
        }
    }
    for (std::size_t n = 0; n < queued.size(); ++n)
      ASSERT_EQ(completed[n], queued[n]) << "completion " << n << " is not in queue order";
    EXPECT_EQ(failed, std::vector<key>{refused});
    EXPECT_EQ(errors, std::vector<error_kind>{error_kind::database});
    EXPECT_EQ(completion_threads.size(), 1u);
    EXPECT_TRUE(invisible.empty()) << invisible.size() << " reports not visible at completion";
  }
};

TEST(StoreWriter, CompletionsComeInQueueOrderAcrossProducersRetriesAndRefusals) {
  auto state = std::make_shared<fake_state>();
  state->gate_open = false;  // the first batch waits, so the queue fills
  state->fail_next = 3;      // and then the connection is lost three times
  store_writer w(fake_connect(state), {.queue_capacity = 16,
                                       .urgent_reserve = 4,
                                       .max_batch = 24,
                                       .max_delay = 1ms,
                                       .retry_min = 1ms,
                                       .retry_max = 2ms});
  order_run run;
  run.run(w, [&] {
    for (int i = 0; i < 2000 && run.full == 0; ++i) std::this_thread::sleep_for(1ms);
    std::this_thread::sleep_for(20ms);  // the urgent producer fills the reserve
    state->open_gate();
  });
  run.check();
  EXPECT_GT(run.full, 0) << "the queue never filled";
  EXPECT_GT(run.urgent_overtook, 0) << "no urgent item was queued while a normal one waited";
  EXPECT_GE(w.stats().retries, 3u);
  // What was committed is what was queued, less the refused report.
  std::vector<std::string> want;
  for (const auto& k : run.queued)
    if (k != order_run::refused && std::holds_alternative<status_report>(order_run::item_of(k)))
      want.push_back("s-" + std::to_string(k.second));
  std::lock_guard lock(state->mutex);
  EXPECT_EQ(state->ids, want);
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
  ASSERT_TRUE(w.try_submit(device_offline{"a@iot/x"}));
  ASSERT_TRUE(w.try_submit(device_touch{"a@iot/x", "hall", micros_at(3)}));
  ASSERT_TRUE(w.try_submit(device_touch{"b@iot/x", "hall", micros_at(1)}));
  ASSERT_TRUE(w.try_submit(device_offline{"b@iot/x"}));
  ASSERT_TRUE(w.try_submit(presence_update{"c@iot/x", true, "", "", micros_at(1)}));
  ASSERT_TRUE(w.try_submit(device_offline{"c@iot/x"}));
  ASSERT_TRUE(w.try_submit(device_touch{"c@iot/x", "", micros_at(3)}));
  w.flush();
  auto online = reader_->devices(true);
  ASSERT_TRUE(online) << online.error().message;
  ASSERT_EQ(online->size(), 2u);
  EXPECT_EQ((*online)[0].jid, "a@iot/x");
  EXPECT_EQ((*online)[0].last_update, micros_at(3));
  EXPECT_EQ((*online)[1].jid, "c@iot/x");
}

TEST_P(StoreWriterDb, CompletionsComeInQueueOrderAcrossProducersAndRefusals) {
  store_writer w(connect(), {.queue_capacity = 16, .urgent_reserve = 4, .max_batch = 24,
                             .max_delay = 1ms});
  // The completions run one at a time on the writer thread, so they may
  // share this connection.
  std::unique_ptr<store> other = open();
  ASSERT_TRUE(other);
  order_run run;
  run.visible = [&](const std::string& room) {
    auto got = other->latest_report(room);
    return got && *got;
  };
  run.run(w);
  run.check();
  EXPECT_GT(run.full, 0) << "the queue never filled";
}

INSTANTIATE_TEST_SUITE_P(Engines, StoreWriterDb, ::testing::Values(engine::sqlite, engine::mysql),
                         [](const auto& info) { return test::engine_name(info.param); });

}  // namespace
}  // namespace iotxmpp
