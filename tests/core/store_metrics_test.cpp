// The store's metrics (core/store/store_metrics.hpp) as the writer and the
// MySQL error mapping count them: commits and batch sizes, an outage with
// its retries, a report the database refused, and MySQL error 1213.

#include "core/store/store_metrics.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <mutex>

#include "core/store/mysql_error.hpp"
#include "core/store/store_writer.hpp"
#include "support/store_records.hpp"

namespace iotxmpp {
namespace {

using namespace std::chrono_literals;

// A store that fails its first `fail_first` connects and refuses a report
// with a value that is not finite, as the real stores do.
struct flaky {
  std::mutex mutex;
  int fail_first = 0;
};

class refusing_store final : public store {
 public:
  result<migration_report> migrate() override { return migration_report{}; }
  result<void> apply(const write_batch& batch) override {
    for (const auto& r : batch.reports)
      for (const auto& v : r.values)
        if (!std::isfinite(v.value)) return fail(error_kind::database, "not finite");
    return {};
  }
  result<std::optional<status_report>> latest_report(std::string_view) override {
    return std::optional<status_report>();
  }
  result<std::vector<device_row>> devices(bool) override { return std::vector<device_row>{}; }
  result<std::vector<device_row>> reap(sys_micros, bool) override {
    return std::vector<device_row>{};
  }
  result<std::size_t> count_reports() override { return std::size_t{0}; }
  result<std::size_t> count_recommendations() override { return std::size_t{0}; }
  result<void> ping() override { return {}; }
  std::string describe() const override { return "refusing:"; }
};

struct counts {
  std::uint64_t commits, batches_observed, committed, outages, retries, refused, deadlocks;
  double batch_items_sum;

  static counts now() {
    const auto& m = store_metrics();
    auto commit = m.commit_seconds.read();
    auto batch = m.batch_items.read();
    return {commit.cumulative.back(),  batch.cumulative.back(),
            m.committed_items.value(), m.outages.value(),
            m.retries.value(),         m.reports_refused_by_store.value(),
            m.deadlocks.value(),       batch.sum};
  }
};

TEST(StoreMetrics, TheWriterCountsCommitsBatchesOutagesRetriesAndRefusals) {
  const counts before = counts::now();
  auto state = std::make_shared<flaky>();
  state->fail_first = 3;
  store_writer w(
      [state]() -> result<std::unique_ptr<store>> {
        std::lock_guard lock(state->mutex);
        if (state->fail_first > 0) {
          --state->fail_first;
          return fail(error_kind::connect, "down");
        }
        return std::unique_ptr<store>(std::make_unique<refusing_store>());
      },
      {.max_delay = 1ms, .retry_min = 1ms, .retry_max = 2ms});
  for (int i = 0; i < 5; ++i)
    w.submit_wait(test::make_report("kitchen", "s-" + std::to_string(i), test::micros_at(i)));
  w.flush();
  auto bad = test::make_report("kitchen", "bad", test::micros_at(9));
  bad.values.at(0).value = std::numeric_limits<double>::quiet_NaN();
  w.submit_wait(std::move(bad));
  w.flush();
  w.stop();

  const counts after = counts::now();
  EXPECT_EQ(after.outages - before.outages, 1u) << "one outage, however many failed connects";
  // The writer's first connect at start fails on its own; the batch then
  // waits out the two others, each after a back-off.
  EXPECT_EQ(after.retries - before.retries, 2u);
  EXPECT_EQ(after.committed - before.committed, 5u);
  EXPECT_EQ(after.batch_items_sum - before.batch_items_sum, 5.0);
  EXPECT_EQ(after.commits - before.commits, after.batches_observed - before.batches_observed)
      << "one latency and one size per committed transaction";
  EXPECT_GE(after.commits - before.commits, 1u);
  EXPECT_EQ(after.refused - before.refused, 1u);
}

TEST(StoreMetrics, MysqlError1213CountsAsADeadlock) {
  auto url = store_url::parse("mysql://u:p@127.0.0.1:3306/db");
  ASSERT_TRUE(url);
  const auto before = store_metrics().deadlocks.value();
  auto e = mysql_error(*url, 1213, "Deadlock found when trying to get lock", "cannot write to");
  EXPECT_EQ(e.kind, error_kind::timeout) << "transient: the writer retries it";
  EXPECT_EQ(store_metrics().deadlocks.value() - before, 1u);
  mysql_error(*url, 1205, "Lock wait timeout exceeded", "cannot write to");
  EXPECT_EQ(store_metrics().deadlocks.value() - before, 1u) << "only 1213";
}

}  // namespace
}  // namespace iotxmpp
