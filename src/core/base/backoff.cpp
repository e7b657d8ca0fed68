#include "core/base/backoff.hpp"

#include <algorithm>

#include "core/base/random_id.hpp"

namespace iotxmpp {

backoff::backoff(backoff_policy policy, std::uint64_t seed) : policy_(policy), state_(seed) {
  if (state_ == 0) state_ = random_u64();
  policy_.jitter = std::clamp(policy_.jitter, 0.0, 1.0);
  if (policy_.initial.count() < 0) policy_.initial = {};
  policy_.max = std::max(policy_.max, policy_.initial);
}

std::chrono::milliseconds backoff::next() {
  // Doubling stops at the cap, so failures_ may grow without overflow.
  auto base = policy_.initial;
  for (unsigned i = 0; i < failures_ && base.count() > 0 && base < policy_.max; ++i) base *= 2;
  base = std::min(base, policy_.max);
  ++failures_;

  std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  double unit = static_cast<double>(z >> 11) / static_cast<double>(1ULL << 53);  // [0, 1)
  double factor = 1.0 - policy_.jitter * unit;
  return std::chrono::milliseconds(
      static_cast<long long>(static_cast<double>(base.count()) * factor));
}

}  // namespace iotxmpp
