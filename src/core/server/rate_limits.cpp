#include "core/server/rate_limits.hpp"

#include <algorithm>

namespace iotxmpp {

void token_bucket::refill(steady_time now, double rate, double capacity) {
  if (last_ == steady_time{}) {  // the first take: a full bucket
    tokens_ = capacity;
    last_ = now;
    return;
  }
  const double seconds = std::chrono::duration<double>(now - last_).count();
  if (seconds > 0) {
    tokens_ = std::min(capacity, tokens_ + seconds * rate);
    last_ = now;
  }
}

void token_bucket::take(double n, steady_time now, double rate, double capacity) {
  refill(now, rate, capacity);
  tokens_ -= n;
}

std::chrono::microseconds token_bucket::wait_for(double rate) const {
  if (tokens_ >= 0 || rate <= 0) return std::chrono::microseconds(0);
  return std::chrono::microseconds(static_cast<long long>(-tokens_ / rate * 1e6) + 1);
}

bool token_bucket::full(steady_time now, double rate, double capacity) const {
  if (last_ == steady_time{}) return true;
  const double seconds = std::chrono::duration<double>(now - last_).count();
  return tokens_ + seconds * rate >= capacity;
}

bool connection_rate_limiter::try_accept(const std::string& address, bool loopback, steady_time now,
                                         const rate_policy& policy) {
  const double rate = policy.connections_per_second;
  if (rate <= 0 || (loopback && !policy.limit_loopback)) return true;
  const double capacity = std::max(1.0, rate * policy.burst_seconds);
  std::lock_guard lock(mutex_);
  // Forget addresses whose bucket has refilled, now and then, so the map
  // holds only recent senders (bounded by the rate of distinct addresses).
  if (now - last_prune_ > std::chrono::seconds(10) || buckets_.size() > 100'000) {
    std::erase_if(buckets_, [&](const auto& kv) { return kv.second.full(now, rate, capacity); });
    last_prune_ = now;
  }
  token_bucket& b = buckets_[address];
  b.take(1, now, rate, capacity);
  if (b.wait_for(rate).count() == 0) return true;
  b.take(-1, now, rate, capacity);  // a refused connection costs nothing
  return false;
}

}  // namespace iotxmpp
