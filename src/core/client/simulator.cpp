#include "core/client/simulator.hpp"

#include "core/base/asio.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <deque>
#include <iterator>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "core/base/clock.hpp"
#include "core/base/random_id.hpp"
#include "core/client/latency_histogram.hpp"
#include "core/client/queries.hpp"
#include "core/client/room_model.hpp"
#include "core/client/unacked_queue.hpp"

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
  std::atomic<std::size_t> reconnecting{0}, waiting_for_acks{0};
  std::atomic<std::uint64_t> disconnects{0}, reconnects{0}, resumes{0};
  std::atomic<std::uint64_t> reports_sent{0}, reports_acknowledged{0}, reports_rejected{0};
  std::atomic<std::uint64_t> reports_resent{0}, reports_unacknowledged{0}, reports_lost{0};
  std::atomic<std::uint64_t> ack_timeouts{0};
  std::atomic<std::uint64_t> queries_sent{0}, queries_answered{0}, errors{0};
  latency_histogram rtt;

  mutable std::mutex mutex;  // guards what follows
  std::condition_variable finished_changed;
  bool finished = false;
  bool joined = false;
  std::string first_error, first_disconnect;
  steady::time_point started = steady::now(), ended{};

  // Takes one report slot; false once `options.reports` are taken. Taking
  // the last one ends the run (stop() lets the in-flight ones be acknowledged).
  bool claim_report();
  void record_error(const std::string& what);
  void record_disconnect(const std::string& why);
  void device_done();
  void finish();
  void stop();
  void arm_signals();
};

// A reason to stop reconnecting: the server refused the login (or the
// options), or another session took the address; trying again would get
// the same answer, or steal the address back and forth.
bool gives_up_on(const error& e) {
  if (e.kind == error_kind::usage) return true;
  if (e.kind != error_kind::remote) return false;
  static constexpr std::string_view final_conditions[] = {
      "not-authorized",  "account-disabled",  "invalid-mechanism",  "encryption-required",
      "invalid-authzid", "malformed-request", "incorrect-encoding", "conflict"};
  return std::find(std::begin(final_conditions), std::end(final_conditions), e.condition) !=
         std::end(final_conditions);
}

std::string reason_of(const error& e) {
  return e.message + (e.condition.empty() ? "" : " (" + e.condition + ")");
}

// One simulated device: a client, its room, its unacknowledged reports, a
// timer for the ramp and the next report or query, and one for the end of
// the drain. Lives on one shard's thread; every member is touched there only.
//
// States: waiting (the ramp) → connecting (the first connection; its failure
// ends the device) → up ⇄ down (lost; the client reconnects with back-off)
// → closing → done. `draining_` is set by the end of the run in any state.
class device {
 public:
  device(fleet& run, asio::io_context& io, std::size_t index)
      : run_(run),
        options_(run.options),
        client_(io, device_client_options(run.options, index)),
        room_(room_name(index), room_zone_offset(index),
              run.options.seed * 0x9e3779b97f4a7c15ULL + index),
        timer_(io),
        drain_timer_(io),
        random_(run.options.seed ^ (index * 0xbf58476d1ce4e5b9ULL)),
        unacked_(run.options.window) {
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

  // The run is ending: make no new reports; close once what was sent is
  // acknowledged, or when drain_timeout has passed (what is left is lost).
  void drain() {
    if (draining_ || state_ == state::closing || state_ == state::done) return;
    draining_ = true;
    timer_.cancel();
    switch (state_) {
      case state::waiting:
        done();
        return;
      case state::connecting:
        return;  // on_first_connect closes
      default:
        break;
    }
    if (settle_drain()) return;
    drain_timer_.expires_after(options_.drain_timeout);
    drain_timer_.async_wait([this](boost::system::error_code ec) {
      if (!ec) give_up_draining();
    });
  }

 private:
  enum class state { waiting, connecting, up, down, closing, done };

  struct ping {
    std::string id;
    std::uint64_t through;   // the unacked_queue mark it acknowledges
    bool timed_out = false;  // unanswered past reply_timeout (the answer may still come)
  };

  void set_state(state s) {
    if (state_ == state::down) run_.reconnecting.fetch_sub(1, std::memory_order_relaxed);
    if (s == state::down) run_.reconnecting.fetch_add(1, std::memory_order_relaxed);
    if (s != state::up) set_stalled(false);
    state_ = s;
  }

  void set_stalled(bool stalled) {
    if (stalled == stalled_) return;
    stalled_ = stalled;
    if (stalled)
      run_.waiting_for_acks.fetch_add(1, std::memory_order_relaxed);
    else
      run_.waiting_for_acks.fetch_sub(1, std::memory_order_relaxed);
  }

  void connect() {
    set_state(state::connecting);
    client_.connect([this](const result<void>& r) { on_first_connect(r); });
  }

  void on_first_connect(const result<void>& r) {
    if (!r) {
      fail(room_.name() + ": " + r.error().message);
      return;
    }
    // From now on the client reconnects after every loss; on_up runs after
    // each bind, this one included.
    client_.keep_connected(
        options_.reconnect, [this] { on_up(); }, [this](const error& e) { on_down(e); });
  }

  void on_up() {
    if (state_ == state::up || state_ == state::closing || state_ == state::done) return;
    bool again = state_ == state::down;
    set_state(state::up);
    raise_to(run_.peak_connected, run_.connected.fetch_add(1, std::memory_order_relaxed) + 1);
    was_bound_ = true;
    if (again) run_.reconnects.fetch_add(1, std::memory_order_relaxed);
    if (const auto& resumed = client_.resumed()) {
      // The same stream (XEP-0198 §5): the server's h says which of our
      // stanzas it handled, and for reports handled means stored.
      run_.resumes.fetch_add(1, std::memory_order_relaxed);
      acknowledge_through_h(resumed->handled);
    }
    sm_marks_.clear();  // counts start again from h, or afresh
    flush();            // resends what the last connection left unacknowledged
    if (draining_) {
      settle_drain();
      return;
    }
    if (!again) {
      auto now = steady::now();
      // Spread the fleet's reports and queries over their periods.
      next_report_ =
          now + std::chrono::duration_cast<steady::duration>(options_.interval * uniform());
      next_query_ = now + std::chrono::duration_cast<steady::duration>(options_.query_every *
                                                                       (0.1 + 0.9 * uniform()));
    }
    if (options_.interval.count() == 0) pump();
    schedule();
  }

  // After each lost connection and each failed attempt to make it again.
  void on_down(const error& e) {
    if (!gives_up_on(e)) return;  // the client tries again after its back-off
    client_.close();
    fail(room_.name() + ": gave up reconnecting: " + reason_of(e));
  }

  void on_closed(const std::optional<error>& why) {
    if (was_bound_) run_.connected.fetch_sub(1, std::memory_order_relaxed);
    was_bound_ = false;
    if (state_ == state::done) return;
    if (!why || state_ == state::closing) {
      done();
      return;
    }
    // Lost: the reports held are written again on the next connection, and
    // this connection's pings can acknowledge nothing any more.
    run_.disconnects.fetch_add(1, std::memory_order_relaxed);
    run_.record_disconnect(room_.name() + ": " + reason_of(*why));
    set_state(state::down);
    timer_.cancel();
    unacked_.connection_lost();
    pings_.clear();
    pinged_through_ = 0;
    query_in_flight_ = false;
    if (draining_) settle_drain();
  }

  void on_stanza(pugi::xml_node stanza) {
    std::string_view name = stanza.name();
    std::string_view type = stanza.attribute("type").value();
    std::string_view id = stanza.attribute("id").value();
    // A refused report comes back as <message type='error' id='…'>.
    if (name == "message" && type == "error") {
      if (unacked_.refuse(id)) {
        run_.reports_unacknowledged.fetch_sub(1, std::memory_order_relaxed);
        run_.reports_rejected.fetch_add(1, std::memory_order_relaxed);
      }
      run_.record_error(room_.name() + ": report " + std::string(id) + " refused");
      return;
    }
    // The answer to a ping that timed out: it acknowledges as late as it is.
    if (name == "iq" && (type == "result" || type == "error")) {
      if (type == "result")
        on_ping_answer(id, xml_element::from(stanza));
      else
        on_ping_answer(id,
                       iotxmpp::fail(error_kind::remote, "the server answered a ping with an error",
                                     "internal-server-error"));
    }
  }

  // Arms the timer for the next report or query, whichever is first.
  void schedule() {
    if (state_ != state::up || draining_) return;
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
    if (state_ != state::up || draining_) return;
    auto now = steady::now();
    if (options_.interval.count() > 0 && now >= next_report_) {
      if (!unacked_.full()) {
        make_reports(1);
      } else {
        report_due_ = true;  // the queue is full: report when the server acknowledges
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

  // With interval 0: keep the queue full, in groups of a quarter of it.
  void pump() {
    std::size_t group = std::max<std::size_t>(1, options_.window / 4);
    while (state_ == state::up && !draining_ && !unacked_.full()) {
      if (make_reports(std::min(group, unacked_.capacity() - unacked_.size())) == 0) break;
    }
  }

  // Makes up to `n` reports (as long as report slots last), holds them and
  // sends them with a ping after them; returns how many it made.
  std::size_t make_reports(std::size_t n) {
    std::size_t k = 0;
    for (; k < n && !unacked_.full() && run_.claim_report(); ++k) {
      ++seq_;
      std::string id = run_.run_id + "-" + std::to_string(seq_);
      std::string stanza =
          status_message(room_.report(clock::wall_now()), options_.client.domain, id, seq_);
      unacked_.push(std::move(id), std::move(stanza));
    }
    if (k == 0) return 0;
    run_.reports_sent.fetch_add(k, std::memory_order_relaxed);
    run_.reports_unacknowledged.fetch_add(k, std::memory_order_relaxed);
    flush();
    return k;
  }

  // Writes every held report not yet written on this connection (after a
  // reconnect: all of them, with their original ids), then a ping that
  // acknowledges them once answered.
  void flush() {
    if (state_ != state::up) return;
    auto batch = unacked_.unwritten();
    if (batch.reports > 0) {
      auto sent = client_.send(batch.bytes);
      if (!sent) {
        // Held still: the next flush (the next report, acknowledgement or
        // connection) writes them.
        run_.record_error(room_.name() + ": " + sent.error().message);
        return;
      }
      unacked_.written(batch.through);
      run_.reports_resent.fetch_add(batch.resends, std::memory_order_relaxed);
      if (auto counts = client_.stream_counts()) {
        // Where this batch ends in the stream's count: a resumed stream's h
        // at or past it acknowledges it.
        if (sm_marks_.size() >= options_.window) sm_marks_.pop_front();
        sm_marks_.push_back({counts->sent, batch.through});
      }
    }
    if (unacked_.written_through() <= pinged_through_) return;
    pinged_through_ = unacked_.written_through();
    std::string id = client_.next_id();
    pings_.push_back({id, pinged_through_});
    client_.send_iq(ping_request(options_.client.domain, id), options_.reply_timeout,
                    [this, id](result<xml_element> r) { on_ping_answer(id, r); });
  }

  // The server's h on a resumed stream: every batch written before it is
  // stored; the rest is written again by flush().
  void acknowledge_through_h(std::uint32_t h) {
    std::uint64_t through = 0;
    for (const auto& m : sm_marks_)
      if (static_cast<std::uint32_t>(h - m.sent) < 0x80000000u) through = m.through;
    if (through == 0) return;
    std::size_t n = unacked_.acknowledge(through);
    run_.reports_unacknowledged.fetch_sub(n, std::memory_order_relaxed);
    run_.reports_acknowledged.fetch_add(n, std::memory_order_relaxed);
  }

  // A ping of this connection answered (in time or late), or failed.
  void on_ping_answer(std::string_view id, const result<xml_element>& r) {
    if (state_ == state::done) return;
    auto it = std::find_if(pings_.begin(), pings_.end(), [&](const ping& p) { return p.id == id; });
    if (it == pings_.end()) return;  // an older connection's, or already settled
    if (!r && r.error().kind == error_kind::timeout) {
      // The server (or its database) is slow or down: keep waiting; the
      // answer still acknowledges when it comes.
      run_.ack_timeouts.fetch_add(1, std::memory_order_relaxed);
      it->timed_out = true;
      set_stalled(true);
      return;
    }
    // The connection ended (its pending IQs fail with the stream error, if
    // any, before on_closed runs): the next connection resends.
    if (!r && (r.error().kind != error_kind::remote || !client_.bound())) return;
    std::uint64_t through = it->through;
    pings_.erase(pings_.begin(), it + 1);  // answered in order: the earlier ones are covered
    set_stalled(
        std::any_of(pings_.begin(), pings_.end(), [](const ping& p) { return p.timed_out; }));
    std::size_t n = unacked_.acknowledge(through);
    run_.reports_unacknowledged.fetch_sub(n, std::memory_order_relaxed);
    if (r) {
      run_.reports_acknowledged.fetch_add(n, std::memory_order_relaxed);
    } else {
      // The server says a write since its last answer was lost for good; it
      // cannot say which, so none of these is acknowledged.
      run_.reports_lost.fetch_add(n, std::memory_order_relaxed);
      run_.record_error(room_.name() + ": the server lost a report of " + std::to_string(n) + " (" +
                        r.error().condition + ")");
    }
    if (state_ != state::up) return;
    if (draining_) {
      settle_drain();
    } else if (options_.interval.count() == 0) {
      pump();
    } else if (report_due_ && !unacked_.full()) {
      report_due_ = false;
      make_reports(1);
    }
  }

  void ask() {
    query_in_flight_ = true;
    run_.queries_sent.fetch_add(1, std::memory_order_relaxed);
    auto asked = steady::now();
    client_.send_iq(
        recommend_request(options_.client.domain, room_.name()), options_.reply_timeout,
        [this, asked](result<xml_element> r) {
          query_in_flight_ = false;
          if (state_ == state::closing || state_ == state::done) return;
          if (!r) {
            // Unanswered (timeout, lost connection) is no error:
            // asked minus answered shows it.
            if (r.error().kind == error_kind::remote && client_.bound())
              run_.record_error(room_.name() + ": recommendation: " + r.error().message);
            return;
          }
          run_.rtt.record(
              std::chrono::duration_cast<std::chrono::microseconds>(steady::now() - asked));
          auto answer = parse_recommendation(*r);
          if (!answer) {
            run_.record_error(room_.name() + ": " + answer.error().message);
            return;
          }
          run_.queries_answered.fetch_add(1, std::memory_order_relaxed);
          room_.steer(*answer);
        });
  }

  // While draining: closes once nothing is left to acknowledge; true when
  // the device is closing or done.
  bool settle_drain() {
    if (!unacked_.empty()) return false;
    if (state_ == state::up) {
      close();
    } else if (state_ == state::down) {
      client_.close();  // stops reconnecting
      done();
    }
    return true;
  }

  // drain_timeout has passed: what is still held is lost.
  void give_up_draining() {
    if (state_ == state::up) {
      close();
    } else if (state_ == state::down) {
      client_.close();
      done();
    }
  }

  void close() {
    set_state(state::closing);
    timer_.cancel();
    drain_timer_.cancel();
    client_.close();  // on_closed(nullopt) follows
  }

  void fail(const std::string& why) {
    run_.failed.fetch_add(1, std::memory_order_relaxed);
    run_.record_error(why);
    done();
  }

  void done() {
    if (state_ == state::done) return;
    set_state(state::done);
    timer_.cancel();
    drain_timer_.cancel();
    run_.device_done();
  }

  double uniform() {  // [0, 1)
    return std::uniform_real_distribution<double>(0, 1)(random_);
  }

  fleet& run_;
  const simulator_options& options_;
  client client_;
  room_model room_;
  asio::steady_timer timer_, drain_timer_;
  std::minstd_rand random_;
  state state_ = state::waiting;
  bool draining_ = false;
  bool was_bound_ = false;
  bool stalled_ = false;  // a ping of this connection went unanswered past reply_timeout
  std::uint64_t seq_ = 0;
  unacked_queue unacked_;
  std::deque<ping> pings_;  // this connection's unanswered pings, in order
  // With stream management: where each written batch ended in the stream's
  // count of our stanzas (at most `window` kept), for a resumption's h.
  struct sm_mark {
    std::uint32_t sent;
    std::uint64_t through;
  };
  std::deque<sm_mark> sm_marks_;
  std::uint64_t pinged_through_ = 0;  // the mark of this connection's last ping
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

void fleet::record_disconnect(const std::string& why) {
  std::lock_guard lock(mutex);
  if (first_disconnect.empty()) first_disconnect = why;
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
  if (o.drain_timeout.count() < 0)
    return fail(error_kind::usage, "the drain timeout must not be negative");
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
  s.reconnecting = p.reconnecting.load(std::memory_order_relaxed);
  s.waiting_for_acks = p.waiting_for_acks.load(std::memory_order_relaxed);
  s.disconnects = p.disconnects.load(std::memory_order_relaxed);
  s.reconnects = p.reconnects.load(std::memory_order_relaxed);
  s.resumes = p.resumes.load(std::memory_order_relaxed);
  s.reports_resent = p.reports_resent.load(std::memory_order_relaxed);
  s.reports_unacknowledged = p.reports_unacknowledged.load(std::memory_order_relaxed);
  s.ack_timeouts = p.ack_timeouts.load(std::memory_order_relaxed);
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
  s.first_disconnect = p.first_disconnect;
  s.finished = p.finished;
  // Once the run has ended, nothing still held will be acknowledged.
  s.reports_lost =
      p.reports_lost.load(std::memory_order_relaxed) + (p.finished ? s.reports_unacknowledged : 0);
  s.elapsed_seconds =
      std::chrono::duration<double>((p.finished ? p.ended : steady::now()) - p.started).count();
  return s;
}

}  // namespace iotxmpp
