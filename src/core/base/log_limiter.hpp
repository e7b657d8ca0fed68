#pragma once
// A warning that anyone on the network can cause (a connection from an
// untrusted address, a malformed header) is logged at most `burst` times per
// interval; the first one let through after some were held back says how
// many: a flood of connections cannot flood the log. Thread-safe.

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <utility>

namespace iotxmpp::log {

class limiter {
 public:
  using clock = std::chrono::steady_clock;

  limiter(clock::duration every, std::uint32_t burst) : every_(every), burst_(burst) {}

  // Whether to log one now. When it is let through: how many were held back
  // since the last one that was; else nullopt.
  std::optional<std::uint64_t> allow(clock::time_point now = clock::now()) {
    std::lock_guard lock(mutex_);
    if (!started_ || now - window_start_ >= every_) {
      started_ = true;
      window_start_ = now;
      in_window_ = 0;
    }
    if (in_window_ >= burst_) {
      ++held_back_;
      return std::nullopt;
    }
    ++in_window_;
    return std::exchange(held_back_, 0);
  }

 private:
  const clock::duration every_;
  const std::uint32_t burst_;
  std::mutex mutex_;
  bool started_ = false;
  clock::time_point window_start_{};
  std::uint32_t in_window_ = 0;
  std::uint64_t held_back_ = 0;
};

}  // namespace iotxmpp::log
