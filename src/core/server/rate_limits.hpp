#pragma once
// Rate limits (PROTOCOL.md §4): token buckets per session on stanzas and
// bytes, which slow a session's reading down once it sends faster than its
// rate (a shaper, as Prosody's limits are), and a bucket per source address
// on new connections. Plain arithmetic on steady time; the session and the
// server decide what to do with the answers.

#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

namespace iotxmpp {

using steady_time = std::chrono::steady_clock::time_point;

// What the operator allows; 0 turns a rate off.
struct rate_policy {
  double stanzas_per_second = 100;
  double bytes_per_second = 64 * 1024;
  // The bucket holds this many seconds' worth: the burst a quiet session
  // may send at once.
  double burst_seconds = 10;
  // A session that stays over its rate for this long, although it is slowed
  // down all the while, is closed with policy-violation.
  std::chrono::milliseconds grace{30'000};
  double connections_per_second = 50;  // new connections per source address
  // Loopback sources (local tools, load tests on the same host) are not
  // held to connections_per_second unless this is set (tests).
  bool limit_loopback = false;

  bool session_limited() const { return stanzas_per_second > 0 || bytes_per_second > 0; }
};

// A token bucket that may go into debt: take() always succeeds, and
// wait_for() says how long until the debt is paid back. Full when made.
class token_bucket {
 public:
  void take(double n, steady_time now, double rate, double capacity);
  // How long, at `rate`, until the bucket holds no debt (zero when none).
  std::chrono::microseconds wait_for(double rate) const;
  // Whether the bucket, refilled to `now`, is full (an idle bucket).
  bool full(steady_time now, double rate, double capacity) const;

 private:
  void refill(steady_time now, double rate, double capacity);
  double tokens_ = 0;  // full at the first take (last_ unset)
  steady_time last_{};
};

// New connections per source address, shared by every listener.
class connection_rate_limiter {
 public:
  // False when `address` opened more than its rate (with burst) allows.
  // `loopback`: the address is 127.0.0.0/8 or ::1.
  bool try_accept(const std::string& address, bool loopback, steady_time now,
                  const rate_policy& policy);

 private:
  std::mutex mutex_;
  std::unordered_map<std::string, token_bucket> buckets_;
  steady_time last_prune_{};
};

}  // namespace iotxmpp
