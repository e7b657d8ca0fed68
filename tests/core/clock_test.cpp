#include "core/base/clock.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace iotxmpp {
namespace {

using namespace std::chrono_literals;

TEST(Clock, WallNowIsTheSystemClockInMicroseconds) {
  auto before = std::chrono::system_clock::now();
  sys_micros now = clock::wall_now();
  auto after = std::chrono::system_clock::now();
  EXPECT_GE(now, std::chrono::floor<std::chrono::microseconds>(before));
  EXPECT_LE(now, after);
}

TEST(Clock, WallTimeOfASteadyInstantIsThatMuchEarlier) {
  steady_time t = clock::steady_now();
  std::this_thread::sleep_for(20ms);
  sys_micros then = clock::wall_time_of(t);
  sys_micros now = clock::wall_now();
  EXPECT_GE(now - then, 20ms);
  EXPECT_LT(now - then, 5s);
}

TEST(Clock, MillisecondsSinceCountsSteadyTime) {
  steady_time t = clock::steady_now();
  std::this_thread::sleep_for(5ms);
  double ms = clock::milliseconds_since(t);
  EXPECT_GE(ms, 5.0);
  EXPECT_LT(ms, 5000.0);
}

}  // namespace
}  // namespace iotxmpp
