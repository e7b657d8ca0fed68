#include "core/base/log_limiter.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace iotxmpp {
namespace {

using namespace std::chrono_literals;
using clk = log::limiter::clock;

TEST(LogLimiter, LetsABurstThroughPerIntervalAndCountsTheRest) {
  log::limiter l(10s, 3);
  const clk::time_point t0{};
  for (int i = 0; i < 3; ++i) {
    auto held = l.allow(t0 + std::chrono::seconds(i));
    ASSERT_TRUE(held) << i;
    EXPECT_EQ(*held, 0u);
  }
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(l.allow(t0 + 5s));
  EXPECT_FALSE(l.allow(t0 + 9s));
  // A new interval: the first line says how many were held back.
  auto held = l.allow(t0 + 10s);
  ASSERT_TRUE(held);
  EXPECT_EQ(*held, 6u);
  held = l.allow(t0 + 11s);
  ASSERT_TRUE(held);
  EXPECT_EQ(*held, 0u);
}

TEST(LogLimiter, ManyThreadsAtOnceGetNoMoreThanTheBurst) {
  log::limiter l(1h, 20);
  std::atomic<int> let{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i)
        if (l.allow()) ++let;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(let.load(), 20);
  // The next interval's first line reports the 3,980 held back.
  auto next = l.allow(clk::now() + 2h);
  ASSERT_TRUE(next);
  EXPECT_EQ(*next, 3980u);
}

}  // namespace
}  // namespace iotxmpp
