#include "core/client/simulator.hpp"

#include "core/base/asio.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "core/base/clock.hpp"
#include "core/base/random_id.hpp"
#include "core/client/latency_histogram.hpp"
#include "core/client/queries.hpp"
#include "core/client/room_model.hpp"

namespace iotxmpp {
namespace {

using steady = std::chrono::steady_clock;

std::string base36(std::uint64_t v) {
  std::string s;
  do {
    s.insert(s.begin(), "0123456789abcdefghijklmnopqrstuvwxyz"[v % 36]);
    v /= 36;
  } while (v);
  return s;
}

class device;

// counter = max(counter, value), from any thread.
void raise_to(std::atomic<std::size_t>& counter, std::size_t value) {
  auto seen = counter.load(std::memory_order_relaxed);
  while (seen < value && !counter.compare_exchange_weak(seen, value, std::memory_order_relaxed)) {
  }
}

// Device `index`'s client options: the run's, with its own account name
// when the run has a user pattern.
client_options device_client_options(const simulator_options& o, std::size_t index) {
  client_options c = o.client;
  if (o.user_pattern.empty()) return c;
  char number[32];
  std::snprintf(number, sizeof number, "%04zu", index);
  c.user = o.user_pattern;
  for (auto at = c.user.find("{n}"); at != std::string::npos; at = c.user.find("{n}", at))
    c.user.replace(at, 3, number);
  return c;
}

struct shard {
  asio::io_context io{1};  // one thread runs it
  std::vector<std::unique_ptr<device>> devices;
};

// What the devices of a run share; counters are read by stats() from any thread.
struct fleet {
  simulator_options options;
  std::string run_id;
  std::vector<std::unique_ptr<shard>> shards;
  std::vector<std::thread> threads;
  std::optional<asio::signal_set> signals;
  std::optional<asio::steady_timer> deadline;
  int signals_seen = 0;

  std::atomic<bool> stopping{false};
  std::atomic<std::size_t> active{0};     // devices not done yet
  std::atomic<std::uint64_t> claimed{0};  // report slots taken (with options.reports)

  std::atomic<std::size_t> connected{0}, peak_connected{0}, failed{0};
  std::atomic<std::uint64_t> reports_sent{0}, reports_acknowledged{0}, reports_rejected{0};
  std::atomic<std::uint64_t> queries_sent{0}, queries_answered{0}, errors{0};
  latency_histogram rtt;

  mutable std::mutex mutex;  // guards what follows
  std::condition_variable finished_changed;
  bool finished = false;
  bool joined = false;
  std::string first_error;
  steady::time_point started = steady::now(), ended{};

  // Takes one report slot; false once `options.reports` are taken. Taking
  // the last one ends the run (stop() lets the in-flight ones be acknowledged).
  bool claim_report();
  void record_error(const std::string& what);
  void device_done();
  void finish();
  void stop();
  void arm_signals();
};

// One simulated device: a client, its room, and one timer for the ramp, the
// next report, the next query and the drain deadline. Lives on one shard's
// thread; every member is touched there only.
class device {
 public:
  device(fleet& run, asio::io_context& io, std::size_t index)
      : run_(run),
        options_(run.options),
        client_(io, device_client_options(run.options, index)),
        room_(room_name(index), room_zone_offset(index),
              run.options.seed * 0x9e3779b97f4a7c15ULL + index),
        timer_(io),
        random_(run.options.seed ^ (index * 0xbf58476d1ce4e5b9ULL)) {
    client_.on_stanza([this](pugi::xml_node stanza) { on_stanza(stanza); });
    client_.on_closed([this](const std::optional<error>& why) { on_closed(why); });
  }

  // Connects at `when` (the ramp).
  void begin(steady::time_point when) {
    timer_.expires_at(when);
    timer_.async_wait([this](boost::system::error_code ec) {
      if (!ec && state_ == state::waiting) connect();
    });
  }

  // The run is ending: send nothing new, close once what was sent is
  // acknowledged (or reply_timeout has passed).
  void drain() {
    switch (state_) {
      case state::waiting:
        timer_.cancel();
        done();
        break;
      case state::connecting:
        state_ = state::draining;  // on_connected closes
        break;
      case state::running:
        state_ = state::draining;
        timer_.cancel();
        if (in_flight_ == 0) {
          close();
        } else {
          timer_.expires_after(options_.reply_timeout);
          timer_.async_wait([this](boost::system::error_code ec) {
            if (!ec && state_ == state::draining) close();
          });
        }
        break;
      default:
        break;
    }
  }

 private:
  enum class state { waiting, connecting, running, draining, closing, done };

  void connect() {
    state_ = state::connecting;
    client_.connect([this](const result<void>& r) { on_connected(r); });
  }

  void on_connected(const result<void>& r) {
    if (!r) {
      fail(room_.name() + ": " + r.error().message);
      return;
    }
    raise_to(run_.peak_connected, run_.connected.fetch_add(1, std::memory_order_relaxed) + 1);
    was_bound_ = true;
    if (state_ == state::draining) {
      close();
      return;
    }
    state_ = state::running;
    auto now = steady::now();
    // Spread the fleet's reports and queries over their periods.
    next_report_ =
        now + std::chrono::duration_cast<steady::duration>(options_.interval * uniform());
    next_query_ = now + std::chrono::duration_cast<steady::duration>(options_.query_every *
                                                                     (0.1 + 0.9 * uniform()));
    if (options_.interval.count() == 0) pump();
    schedule();
  }

  void on_closed(const std::optional<error>& why) {
    if (was_bound_) run_.connected.fetch_sub(1, std::memory_order_relaxed);
    was_bound_ = false;
    if (state_ == state::done) return;
    if (why && state_ != state::closing) {
      fail(room_.name() + ": stream lost: " + why->message +
           (why->condition.empty() ? "" : " (" + why->condition + ")"));
      return;
    }
    done();
  }

  void on_stanza(pugi::xml_node stanza) {
    // A refused report comes back as <message type='error' id='…'>.
    if (std::string_view(stanza.name()) == "message" &&
        std::string_view(stanza.attribute("type").value()) == "error") {
      ++rejected_pending_;
      run_.reports_rejected.fetch_add(1, std::memory_order_relaxed);
      run_.record_error(room_.name() + ": report " + stanza.attribute("id").value() + " refused");
    }
  }

  // Arms the timer for the next report or query, whichever is first.
  void schedule() {
    if (state_ != state::running) return;
    auto next = steady::time_point::max();
    if (options_.interval.count() > 0) next = std::min(next, next_report_);
    if (options_.query_every.count() > 0) next = std::min(next, next_query_);
    if (next == steady::time_point::max()) return;
    timer_.expires_at(next);
    timer_.async_wait([this](boost::system::error_code ec) {
      if (!ec) on_timer();
    });
  }

  void on_timer() {
    if (state_ != state::running) return;
    auto now = steady::now();
    if (options_.interval.count() > 0 && now >= next_report_) {
      if (in_flight_ < options_.window) {
        send_group(1);
      } else {
        report_due_ = true;  // the server is behind: send when it acknowledges
      }
      double jitter = std::min(options_.jitter, options_.interval / 2).count();
      double spread = jitter * (2 * uniform() - 1);
      auto step =
          std::chrono::duration_cast<steady::duration>(std::chrono::duration<double, std::micro>(
              std::max(0.0, options_.interval.count() + spread)));
      // Behind by more than an interval (a stalled server): skip, do not burst.
      next_report_ = std::max(next_report_ + step, now);
    }
    if (options_.query_every.count() > 0 && now >= next_query_) {
      if (!query_in_flight_) ask();
      next_query_ = now + std::chrono::duration_cast<steady::duration>(options_.query_every);
    }
    schedule();
  }

  // With interval 0: keep the window full.
  void pump() {
    std::size_t group = std::max<std::size_t>(1, options_.window / 4);
    while (state_ == state::running && in_flight_ < options_.window) {
      if (!send_group(std::min(group, options_.window - in_flight_))) break;
    }
  }

  // Sends up to `n` reports and a ping after them; false when nothing was
  // sent (no report slot left, or the client refused).
  bool send_group(std::size_t n) {
    std::string out;
    std::size_t k = 0;
    for (; k < n && run_.claim_report(); ++k) append_report(out);
    if (k == 0) return false;
    auto sent = client_.send(out);
    if (!sent) {
      run_.record_error(room_.name() + ": " + sent.error().message);
      return false;
    }
    run_.reports_sent.fetch_add(k, std::memory_order_relaxed);
    in_flight_ += k;
    client_.send_iq(ping_request(options_.client.domain), options_.reply_timeout,
                    [this, k](result<xml_element> r) { on_acknowledged(k, r); });
    return true;
  }

  void append_report(std::string& out) {
    ++seq_;
    out += status_message(room_.report(clock::wall_now()), options_.client.domain,
                          run_.run_id + "-" + std::to_string(seq_), seq_);
  }

  void on_acknowledged(std::size_t k, const result<xml_element>& r) {
    in_flight_ -= k;
    if (state_ == state::closing || state_ == state::done) return;
    if (r) {
      // Refusals arrive before the ping's answer: they belong to this group
      // or an earlier one.
      std::size_t refused = std::min(k, rejected_pending_);
      rejected_pending_ -= refused;
      run_.reports_acknowledged.fetch_add(k - refused, std::memory_order_relaxed);
    } else {
      run_.record_error(room_.name() + ": reports not acknowledged: " + r.error().message);
    }
    if (state_ == state::draining) {
      if (in_flight_ == 0) close();
      return;
    }
    if (options_.interval.count() == 0) {
      pump();
    } else if (report_due_) {
      report_due_ = false;
      send_group(1);
    }
  }

  void ask() {
    query_in_flight_ = true;
    run_.queries_sent.fetch_add(1, std::memory_order_relaxed);
    auto asked = steady::now();
    client_.send_iq(recommend_request(options_.client.domain, room_.name()), options_.reply_timeout,
                    [this, asked](result<xml_element> r) {
                      query_in_flight_ = false;
                      if (state_ == state::closing || state_ == state::done) return;
                      if (!r) {
                        run_.record_error(room_.name() + ": recommendation: " + r.error().message);
                        return;
                      }
                      run_.rtt.record(std::chrono::duration_cast<std::chrono::microseconds>(
                          steady::now() - asked));
                      auto answer = parse_recommendation(*r);
                      if (!answer) {
                        run_.record_error(room_.name() + ": " + answer.error().message);
                        return;
                      }
                      run_.queries_answered.fetch_add(1, std::memory_order_relaxed);
                      room_.steer(*answer);
                    });
  }

  void close() {
    state_ = state::closing;
    timer_.cancel();
    client_.close();  // on_closed(nullopt) follows
  }

  void fail(const std::string& why) {
    run_.failed.fetch_add(1, std::memory_order_relaxed);
    run_.record_error(why);
    done();
  }

  void done() {
    if (state_ == state::done) return;
    state_ = state::done;
    timer_.cancel();
    run_.device_done();
  }

  double uniform() {  // [0, 1)
    return std::uniform_real_distribution<double>(0, 1)(random_);
  }

  fleet& run_;
  const simulator_options& options_;
  client client_;
  room_model room_;
  asio::steady_timer timer_;
  std::minstd_rand random_;
  state state_ = state::waiting;
  bool was_bound_ = false;
  std::uint64_t seq_ = 0;
  std::size_t in_flight_ = 0;         // reports sent and not yet acknowledged
  std::size_t rejected_pending_ = 0;  // refusals not yet matched to an acknowledgement
  bool report_due_ = false;
  bool query_in_flight_ = false;
  steady::time_point next_report_{}, next_query_{};
};

bool fleet::claim_report() {
  if (options.reports == 0) return !stopping.load(std::memory_order_relaxed);
  auto n = claimed.fetch_add(1, std::memory_order_relaxed);
  if (n >= options.reports) return false;
  if (n + 1 == options.reports) stop();
  return true;
}

void fleet::record_error(const std::string& what) {
  errors.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard lock(mutex);
  if (first_error.empty()) first_error = what;
}

void fleet::device_done() {
  if (active.fetch_sub(1) == 1) finish();
}

void fleet::finish() {
  {
    std::lock_guard lock(mutex);
    if (finished) return;
    finished = true;
    ended = steady::now();
  }
  stopping = true;
  // Every device is done (or a second signal asked to end at once): nothing
  // left to wait for but the signal set and the deadline timer.
  for (auto& s : shards) s->io.stop();
  finished_changed.notify_all();
}

void fleet::stop() {
  if (stopping.exchange(true)) return;
  for (auto& s : shards)
    asio::post(s->io, [sh = s.get()] {
      for (auto& d : sh->devices) d->drain();
    });
}

void fleet::arm_signals() {
  signals->async_wait([this](boost::system::error_code ec, int) {
    if (ec) return;
    if (++signals_seen > 1) {
      finish();  // a second signal: end now, with what was acknowledged so far
      return;
    }
    stop();
    arm_signals();
  });
}

}  // namespace

struct simulator::impl : fleet {};

std::string new_run_id() {
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count();
  return base36(static_cast<std::uint64_t>(seconds)) + "-" + base36(random_u64() >> 32);
}

result<std::unique_ptr<simulator>> simulator::start(simulator_options o) {
  if (o.count == 0) return fail(error_kind::usage, "the device count must be at least 1");
  if (o.window == 0) return fail(error_kind::usage, "the window must be at least 1");
  if (o.interval.count() < 0 || o.jitter.count() < 0 || o.query_every.count() < 0 ||
      o.duration.count() < 0 || o.reply_timeout.count() <= 0)
    return fail(error_kind::usage, "durations must not be negative");
  if (o.ramp < 0) return fail(error_kind::usage, "the ramp must not be negative");
  if (!o.user_pattern.empty() && o.user_pattern.find("{n}") == std::string::npos)
    return fail(error_kind::usage, "the user pattern must contain {n}");

  auto p = std::make_unique<impl>();
  p->options = std::move(o);
  auto& opt = p->options;
  p->run_id = opt.run_id.empty() ? new_run_id() : opt.run_id;
  unsigned threads = opt.threads ? opt.threads : std::max(1u, std::thread::hardware_concurrency());
  threads = static_cast<unsigned>(std::min<std::size_t>(threads, opt.count));
  for (unsigned i = 0; i < threads; ++i) p->shards.push_back(std::make_unique<shard>());

  p->active = opt.count;
  p->started = steady::now();
  for (std::size_t i = 0; i < opt.count; ++i) {
    auto& sh = *p->shards[i % threads];
    sh.devices.push_back(std::make_unique<device>(*p, sh.io, i + 1));
    auto delay = opt.ramp > 0 ? std::chrono::duration<double>(static_cast<double>(i) / opt.ramp)
                              : std::chrono::duration<double>(0);
    sh.devices.back()->begin(p->started + std::chrono::duration_cast<steady::duration>(delay));
  }
  auto& first = p->shards.front()->io;
  if (opt.duration.count() > 0) {
    p->deadline.emplace(first, p->started + opt.duration);
    p->deadline->async_wait([raw = p.get()](boost::system::error_code ec) {
      if (!ec) raw->stop();
    });
  }
  if (opt.handle_signals) {
    p->signals.emplace(first, SIGINT, SIGTERM);
    p->arm_signals();
  }
  for (auto& s : p->shards) p->threads.emplace_back([sh = s.get()] { sh->io.run(); });
  return std::unique_ptr<simulator>(new simulator(std::move(p)));
}

simulator::simulator(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

simulator::~simulator() {
  stop();
  wait();
}

const std::string& simulator::run_id() const { return impl_->run_id; }

void simulator::stop() { impl_->stop(); }

void simulator::wait() {
  {
    std::unique_lock lock(impl_->mutex);
    impl_->finished_changed.wait(lock, [this] { return impl_->finished; });
    if (impl_->joined) return;
    impl_->joined = true;
  }
  for (auto& t : impl_->threads) t.join();
}

bool simulator::wait_for(std::chrono::milliseconds timeout) {
  {
    std::unique_lock lock(impl_->mutex);
    if (!impl_->finished_changed.wait_for(lock, timeout, [this] { return impl_->finished; }))
      return false;
  }
  wait();
  return true;
}

simulator_stats simulator::stats() const {
  const impl& p = *impl_;
  simulator_stats s;
  s.devices = p.options.count;
  s.connected = p.connected.load(std::memory_order_relaxed);
  s.peak_connected = p.peak_connected.load(std::memory_order_relaxed);
  s.failed = p.failed.load(std::memory_order_relaxed);
  s.reports_sent = p.reports_sent.load(std::memory_order_relaxed);
  s.reports_acknowledged = p.reports_acknowledged.load(std::memory_order_relaxed);
  s.reports_rejected = p.reports_rejected.load(std::memory_order_relaxed);
  s.queries_sent = p.queries_sent.load(std::memory_order_relaxed);
  s.queries_answered = p.queries_answered.load(std::memory_order_relaxed);
  s.errors = p.errors.load(std::memory_order_relaxed);
  auto ms = [](std::optional<std::chrono::microseconds> d) -> std::optional<double> {
    if (!d) return std::nullopt;
    return static_cast<double>(d->count()) / 1000;
  };
  s.rtt_p50_ms = ms(p.rtt.quantile(0.5));
  s.rtt_p99_ms = ms(p.rtt.quantile(0.99));
  std::lock_guard lock(p.mutex);
  s.first_error = p.first_error;
  s.finished = p.finished;
  s.elapsed_seconds =
      std::chrono::duration<double>((p.finished ? p.ended : steady::now()) - p.started).count();
  return s;
}

}  // namespace iotxmpp
