#pragma once
// A small metrics registry for Prometheus: counters, gauges and histograms
// with fixed buckets, in families that share a name, a help text and a type,
// each member told apart by a fixed set of labels chosen when it is
// registered (no labels made per event). render() writes them in the text
// exposition format, version 0.0.4.
//
// Cost: updating a metric is one or two relaxed atomic operations and takes
// no lock. A counter is striped over a few cache lines, chosen per thread, so
// io threads counting stanzas do not bounce one line between cores; its
// stripes are summed when rendered. Registering and rendering take the
// registry's lock (start-up and scrapes only).
//
// Lifetimes: a metric lives as long as its registry, at a fixed address:
// keep references. A callback (add_callback) is called under the registry's
// lock at each render until its handle is destroyed; it must not register
// anything or render.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace iotxmpp::metrics {

// Label names and values of one member of a family, in order. Names follow
// Prometheus' rules ([a-zA-Z_][a-zA-Z0-9_]*); values may be any UTF-8 text.
using labels = std::vector<std::pair<std::string, std::string>>;

// A count that only goes up (events since the process started).
class counter {
 public:
  void add(std::uint64_t n = 1) noexcept;
  std::uint64_t value() const noexcept;  // the sum of the stripes

 private:
  static constexpr std::size_t stripes = 4;
  struct alignas(64) cell {
    std::atomic<std::uint64_t> n{0};
  };
  std::array<cell, stripes> cells_{};
};

// A value that goes up and down.
class gauge {
 public:
  void set(double v) noexcept { value_.store(v, std::memory_order_relaxed); }
  void add(double d) noexcept { value_.fetch_add(d, std::memory_order_relaxed); }
  double value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Observations counted into fixed buckets by upper bound (`le`), with their
// sum. A reading taken during observations may show an observation in its
// bucket and not yet in the sum: the count is the buckets' total, so the
// +Inf bucket and _count always agree.
class histogram {
 public:
  // `bounds`: the buckets' upper bounds, strictly ascending and finite; the
  // +Inf bucket is implied.
  explicit histogram(std::vector<double> bounds);
  void observe(double v) noexcept;

  struct reading {
    std::vector<std::uint64_t> cumulative;  // per bound, then +Inf
    double sum = 0;
  };
  reading read() const;
  const std::vector<double>& bounds() const { return bounds_; }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  // bounds_.size() + 1
  std::atomic<double> sum_{0};
};

// Bucket bounds for latencies in seconds, 100 µs to 10 s.
std::vector<double> latency_buckets();

enum class kind { counter, gauge, histogram };

class registry;

// Keeps a callback registered; destroying it (or reset()) removes it.
class callback_handle {
 public:
  callback_handle() = default;
  callback_handle(registry* r, std::uint64_t id) : registry_(r), id_(id) {}
  callback_handle(callback_handle&& o) noexcept
      : registry_(std::exchange(o.registry_, nullptr)), id_(o.id_) {}
  callback_handle& operator=(callback_handle&& o) noexcept;
  ~callback_handle() { reset(); }
  void reset();

 private:
  registry* registry_ = nullptr;
  std::uint64_t id_ = 0;
};

class registry {
 public:
  registry();
  ~registry();
  registry(const registry&) = delete;
  registry& operator=(const registry&) = delete;

  // The family `name` (made on first use, with `help` and the type; a later
  // call keeps the first help) and its member with `labels` (made on first
  // use: asking again returns the same metric). Naming one family with two
  // types is a bug: it throws std::logic_error, at start-up.
  counter& add_counter(std::string_view name, std::string_view help, const labels& l = {});
  gauge& add_gauge(std::string_view name, std::string_view help, const labels& l = {});
  histogram& add_histogram(std::string_view name, std::string_view help, std::vector<double> bounds,
                           const labels& l = {});

  // A member whose value is read when rendered (a queue's depth, a flag):
  // `read` is called under the registry's lock. A counter or gauge only. A
  // second callback with the same name and labels replaces the first while
  // it lives (one server per process; tests that run several see the last).
  [[nodiscard]] callback_handle add_callback(std::string_view name, std::string_view help, kind k,
                                             const labels& l, std::function<double()> read);

  // Every family with at least one member, in the text exposition format
  // 0.0.4: # HELP and # TYPE, then one line per sample, families sorted by
  // name, members in registration order.
  std::string render() const;

 private:
  friend class callback_handle;
  struct member;
  struct family;
  family& family_of(std::string_view name, std::string_view help, kind k);
  member& member_of(family& f, const labels& l);
  void remove_callback(std::uint64_t id);

  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<family>> families_;
  std::uint64_t next_callback_ = 1;
};

// The process's registry: what `serve --metrics` exposes.
registry& global();

// The Content-Type of render()'s text.
inline constexpr std::string_view content_type = "text/plain; version=0.0.4; charset=utf-8";

// Prometheus' text format of a sample value: shortest round-trip decimal,
// "+Inf", "-Inf" or "NaN".
std::string format_value(double v);

}  // namespace iotxmpp::metrics
