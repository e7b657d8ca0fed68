#pragma once
// A fixed-size histogram of latencies (recommendation round trips in
// `simulate`): constant memory however many samples, quantiles within about
// 3 % (32 sub-buckets per power of two), recordable from several threads at
// once without a lock.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>

namespace iotxmpp {

class latency_histogram {
 public:
  // Counts one sample; negative durations count as zero, durations beyond
  // ~35 minutes as ~35 minutes. Thread-safe.
  void record(std::chrono::microseconds latency);

  // Samples recorded so far.
  std::uint64_t count() const;

  // The smallest recorded latency L such that at least q (0..1) of the
  // samples are <= L, to bucket precision (the bucket's upper bound, so never
  // below the true quantile); nullopt before any sample. Thread-safe, though
  // samples recorded meanwhile may or may not be seen.
  std::optional<std::chrono::microseconds> quantile(double q) const;

 private:
  static constexpr int sub_bits = 5;                 // 32 sub-buckets per octave
  static constexpr int octaves = 32 - sub_bits + 1;  // up to 2^31 µs
  static constexpr int bucket_count = octaves << sub_bits;

  static int bucket_of(std::uint64_t micros);
  static std::uint64_t upper_bound_of(int bucket);

  std::array<std::atomic<std::uint64_t>, bucket_count> buckets_{};
};

}  // namespace iotxmpp
