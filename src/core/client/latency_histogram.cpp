#include "core/client/latency_histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace iotxmpp {

// Values below 2^sub_bits get one bucket each; above, each power of two is
// split into 2^sub_bits equal buckets (the HdrHistogram layout).
int latency_histogram::bucket_of(std::uint64_t micros) {
  constexpr std::uint64_t largest = (std::uint64_t{1} << 31) - 1;
  micros = std::min(micros, largest);
  if (micros < (1u << sub_bits)) return static_cast<int>(micros);
  int octave = std::bit_width(micros) - sub_bits;  // >= 1
  auto sub = static_cast<int>(micros >> (octave - 1)) - (1 << sub_bits);
  return (octave << sub_bits) + sub;
}

std::uint64_t latency_histogram::upper_bound_of(int bucket) {
  int octave = bucket >> sub_bits;
  std::uint64_t sub = bucket & ((1 << sub_bits) - 1);
  if (octave == 0) return sub;
  std::uint64_t width = std::uint64_t{1} << (octave - 1);
  return (((std::uint64_t{1} << sub_bits) + sub) << (octave - 1)) + width - 1;
}

void latency_histogram::record(std::chrono::microseconds latency) {
  auto micros = static_cast<std::uint64_t>(std::max<std::int64_t>(0, latency.count()));
  buckets_[bucket_of(micros)].fetch_add(1, std::memory_order_relaxed);
}

std::uint64_t latency_histogram::count() const {
  std::uint64_t n = 0;
  for (const auto& b : buckets_) n += b.load(std::memory_order_relaxed);
  return n;
}

std::optional<std::chrono::microseconds> latency_histogram::quantile(double q) const {
  std::array<std::uint64_t, bucket_count> counts;
  std::uint64_t total = 0;
  for (int i = 0; i < bucket_count; ++i)
    total += counts[i] = buckets_[i].load(std::memory_order_relaxed);
  if (total == 0) return std::nullopt;
  auto rank = static_cast<std::uint64_t>(std::ceil(std::clamp(q, 0.0, 1.0) * total));
  rank = std::max<std::uint64_t>(rank, 1);
  std::uint64_t seen = 0;
  for (int i = 0; i < bucket_count; ++i) {
    seen += counts[i];
    if (seen >= rank) return std::chrono::microseconds(upper_bound_of(i));
  }
  return std::chrono::microseconds(upper_bound_of(bucket_count - 1));
}

}  // namespace iotxmpp
