#pragma once
// Reconnect delays: capped exponential back-off with jitter, so that a fleet
// of clients that lost one server does not reconnect in lock-step and hammer
// it when it comes back.

#include <chrono>
#include <cstdint>

namespace iotxmpp {

struct backoff_policy {
  std::chrono::milliseconds initial{200};  // the first delay (before jitter)
  std::chrono::milliseconds max{10'000};   // no delay is longer than this
  double jitter = 0.5;                     // fraction taken off at random, 0..1
};

// Not thread-safe; one per client.
class backoff {
 public:
  // `seed` 0 draws a seed from the system's random source.
  explicit backoff(backoff_policy policy = {}, std::uint64_t seed = 0);

  // The next delay: min(max, initial * 2^failures) scaled by a random factor
  // in [1 - jitter, 1], then counts one more failure. Never negative.
  std::chrono::milliseconds next();
  // After a success: the next delay is `initial` again.
  void reset() { failures_ = 0; }
  unsigned failures() const { return failures_; }

 private:
  backoff_policy policy_;
  unsigned failures_ = 0;
  std::uint64_t state_;  // splitmix64: 8 bytes, so thousands of clients stay small
};

}  // namespace iotxmpp
