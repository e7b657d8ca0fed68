// The fixed-size latency histogram: quantiles within bucket precision.

#include "core/client/latency_histogram.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace iotxmpp {
namespace {

using std::chrono::microseconds;

TEST(LatencyHistogram, EmptyHasNoQuantile) {
  latency_histogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_FALSE(h.quantile(0.5));
}

TEST(LatencyHistogram, SmallValuesAreExact) {
  latency_histogram h;
  for (int v : {3, 1, 2, 4, 5}) h.record(microseconds(v));
  EXPECT_EQ(h.count(), 5u);
  EXPECT_EQ(h.quantile(0.5), microseconds(3));
  EXPECT_EQ(h.quantile(1.0), microseconds(5));
  EXPECT_EQ(h.quantile(0.0), microseconds(1));
}

TEST(LatencyHistogram, QuantilesWithinThreePercentAndNeverBelow) {
  latency_histogram h;
  for (int v = 1; v <= 100000; ++v) h.record(microseconds(v));
  for (double q : {0.5, 0.9, 0.99, 0.999}) {
    double exact = q * 100000;
    auto got = h.quantile(q);
    ASSERT_TRUE(got);
    EXPECT_GE(got->count(), exact) << q;
    EXPECT_LE(got->count(), exact * 1.04) << q;
  }
}

TEST(LatencyHistogram, OutliersAreClampedNotLost) {
  latency_histogram h;
  h.record(microseconds(-5));
  h.record(std::chrono::hours(10));
  EXPECT_EQ(h.count(), 2u);
  EXPECT_EQ(h.quantile(0), microseconds(0));
  EXPECT_GE(*h.quantile(1), std::chrono::minutes(30));
}

TEST(LatencyHistogram, RecordsFromSeveralThreads) {
  latency_histogram h;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&h] {
      for (int i = 0; i < 10000; ++i) h.record(microseconds(1000));
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(h.count(), 40000u);
  auto p99 = h.quantile(0.99);
  EXPECT_GE(p99->count(), 1000);
  EXPECT_LE(p99->count(), 1032);
}

}  // namespace
}  // namespace iotxmpp
