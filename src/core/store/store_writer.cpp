#include "core/store/store_writer.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/base/backoff.hpp"
#include "core/base/log.hpp"
#include "core/base/random_id.hpp"
#include "core/base/thread_name.hpp"
#include "core/store/store_metrics.hpp"

namespace iotxmpp {
namespace {

using steady = std::chrono::steady_clock;

struct entry {
  write_item item;
  write_done done;
  steady::time_point queued_at;
};

// Where an item landed in a write_batch: its vector (the variant index) and
// position there. Coalesced touches share a position.
struct slot {
  std::size_t kind;
  std::size_t pos;
};

// The order store::apply writes device changes in (store.hpp): an item of an
// earlier phase after one of a later phase for the same JID would be
// reordered, so the batch is cut before it.
int device_phase(const write_item& item) {
  if (std::holds_alternative<device_touch>(item)) return 0;
  if (std::holds_alternative<presence_update>(item)) return 1;
  if (std::holds_alternative<device_offline>(item)) return 2;
  return -1;
}

std::string_view device_of(const write_item& item) {
  if (auto t = std::get_if<device_touch>(&item)) return t->device_jid;
  if (auto p = std::get_if<presence_update>(&item)) return p->device_jid;
  if (auto o = std::get_if<device_offline>(&item)) return o->device_jid;
  return {};
}

// Errors after which the same batch may succeed later (store.hpp).
bool transient(const error& e) {
  return e.kind == error_kind::connect || e.kind == error_kind::timeout || e.kind == error_kind::io;
}

// A fresh write_batch::token: 16 random bytes as hex.
std::string new_batch_token() { return random_hex(32); }

std::string millis_text(steady::duration d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) + "ms";
}

// The items of one transaction, moved into a write_batch, with the slot of
// each so that a refused batch can be split.
struct pending {
  std::vector<write_done> dones;
  std::vector<slot> slots;
  write_batch batch;

  // The next feed event of the batch, in submission order (store.hpp); a
  // writer without a node makes none.
  void event(feed_ref::what kind, std::size_t index) {
    if (!batch.node.empty()) batch.feed_order.push_back({kind, static_cast<std::uint32_t>(index)});
  }

  void add(entry&& e, std::unordered_map<std::string, std::size_t>& touch_pos) {
    dones.push_back(std::move(e.done));
    std::size_t kind = e.item.index();
    std::visit(
        [&](auto&& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, status_report>) {
            slots.push_back({kind, batch.reports.size()});
            event(feed_ref::what::report, batch.reports.size());
            batch.reports.push_back(std::move(v));
          } else if constexpr (std::is_same_v<T, presence_update>) {
            slots.push_back({kind, batch.presences.size()});
            event(feed_ref::what::presence, batch.presences.size());
            batch.presences.push_back(std::move(v));
          } else if constexpr (std::is_same_v<T, recommendation>) {
            slots.push_back({kind, batch.recommendations.size()});
            batch.recommendations.push_back(std::move(v));
          } else if constexpr (std::is_same_v<T, device_touch>) {
            // Many touches of one device in a batch become one row write,
            // and one bind event at the first bind among them.
            auto [it, fresh] = touch_pos.try_emplace(v.device_jid, batch.touches.size());
            slots.push_back({kind, it->second});
            if (fresh) {
              if (v.bound_at != sys_micros{}) event(feed_ref::what::bind, it->second);
              batch.touches.push_back(std::move(v));
            } else {
              device_touch& kept = batch.touches[it->second];
              if (v.bound_at != sys_micros{} && kept.bound_at == sys_micros{})
                event(feed_ref::what::bind, it->second);
              kept.at = std::max(kept.at, v.at);
              kept.bound_at = std::max(kept.bound_at, v.bound_at);
              if (!v.room.empty()) kept.room = std::move(v.room);
            }
          } else if constexpr (std::is_same_v<T, device_offline>) {
            slots.push_back({kind, batch.offlines.size()});
            batch.offlines.push_back(std::move(v));
          } else {
            static_assert(std::is_same_v<T, account_login>);
            slots.push_back({kind, batch.logins.size()});
            batch.logins.push_back(std::move(v));
          }
        },
        std::move(e.item));
  }

  // A copy of the items [lo, hi) as their own batch (the rare refused path),
  // with its own token: it is another batch.
  write_batch part(std::size_t lo, std::size_t hi) const {
    write_batch b;
    b.token = new_batch_token();
    b.node = batch.node;
    auto event = [&b](feed_ref::what kind, std::size_t index) {
      if (!b.node.empty()) b.feed_order.push_back({kind, static_cast<std::uint32_t>(index)});
    };
    std::vector<bool> touch_taken(batch.touches.size());
    for (std::size_t i = lo; i < hi; ++i) {
      const slot& s = slots[i];
      switch (s.kind) {
        case 0:
          event(feed_ref::what::report, b.reports.size());
          b.reports.push_back(batch.reports[s.pos]);
          break;
        case 1:
          event(feed_ref::what::presence, b.presences.size());
          b.presences.push_back(batch.presences[s.pos]);
          break;
        case 2:
          b.recommendations.push_back(batch.recommendations[s.pos]);
          break;
        case 3:
          if (!touch_taken[s.pos]) {
            if (batch.touches[s.pos].bound_at != sys_micros{})
              event(feed_ref::what::bind, b.touches.size());
            b.touches.push_back(batch.touches[s.pos]);
          }
          touch_taken[s.pos] = true;
          break;
        case 4:
          b.offlines.push_back(batch.offlines[s.pos]);
          break;
        default:
          b.logins.push_back(batch.logins[s.pos]);
          break;
      }
    }
    return b;
  }
};

}  // namespace

struct store_writer::impl {
  std::function<result<std::unique_ptr<store>>()> connect;
  writer_options options;

  mutable std::mutex mutex;
  std::condition_variable wake;     // the writer: items, flush or stop
  std::condition_variable space;    // submit_wait: room in the queue
  std::condition_variable settled;  // flush: items completed
  std::deque<entry> queue;
  std::vector<std::function<void()>> space_waiters;
  std::uint64_t submitted = 0;   // items ever queued
  std::uint64_t taken = 0;       // items ever taken into a batch
  std::uint64_t completed = 0;   // items ever completed
  std::uint64_t flush_upto = 0;  // write at once up to this many submitted items
  bool stopping = false;

  // Writer thread only, except the atomics that stats() reads.
  std::unique_ptr<store> db;
  std::string db_name = "the database";  // redacted, for logs
  std::atomic<std::uint64_t> committed_items{0}, batches{0}, retries{0};
  std::atomic<bool> database_up{false};
  bool outage_logged = false;
  steady::time_point outage_since{};
  std::uint64_t outage_retries = 0;
  backoff retry_delay;  // set up from writer_options by the constructor
  std::atomic<std::thread::id> writer_id{};
  std::thread thread;

  void run();
  std::size_t batch_length(const std::deque<entry>& items) const;
  // Queues under the held lock; false when full. After stop() it completes
  // `done` with an error instead (and returns true).
  bool push(std::unique_lock<std::mutex>& lock, write_item& item, write_done& done,
            bool urgent = false);
  void write(pending& p, std::size_t lo, std::size_t hi);
  result<void> attempt_until_settled(const write_batch& batch);
  bool ensure_connected();
  void note_outage(const error& e);
  void note_up();
  void wait_backoff();
};

void store_writer::impl::run() {
  ensure_connected();  // so an absent database shows in the log at start-up
  std::unique_lock lock(mutex);
  for (;;) {
    wake.wait(lock, [&] { return stopping || !queue.empty(); });
    if (queue.empty()) return;  // stopping, and everything is written
    // Gather a full batch, unless the oldest item has waited long enough, or
    // flush() or stop() wants it now.
    auto deadline = queue.front().queued_at + options.max_delay;
    wake.wait_until(lock, deadline, [&] {
      return stopping || flush_upto > taken || queue.size() >= options.max_batch;
    });
    // Take the whole queue at once (O(1)) and sort it out unlocked: building
    // a batch of 50,000 items under the lock held every network thread in
    // try_submit for milliseconds, the tail of recommend latency under ingest.
    std::deque<entry> items;
    items.swap(queue);
    lock.unlock();
    std::size_t n = batch_length(items);
    lock.lock();
    // What belongs to the next batch goes back before anything queued meanwhile.
    while (items.size() > n) {
      queue.push_front(std::move(items.back()));
      items.pop_back();
    }
    taken += n;
    std::vector<std::function<void()>> ready;
    if (queue.size() < options.queue_capacity) ready.swap(space_waiters);
    lock.unlock();
    space.notify_all();
    for (auto& r : ready) r();

    pending p;
    std::unordered_map<std::string, std::size_t> touch_pos;
    p.batch.node = options.node;
    for (auto& e : items) p.add(std::move(e), touch_pos);
    p.batch.token = new_batch_token();
    items = {};
    write(p, 0, p.dones.size());
    const std::size_t written = p.dones.size();
    p = {};  // free the batch before taking the lock again

    lock.lock();
    completed += written;
    settled.notify_all();
  }
}

// How many of `items`, from the front, form the next batch: at most
// max_batch, cut before an item that store::apply would reorder.
std::size_t store_writer::impl::batch_length(const std::deque<entry>& items) const {
  std::unordered_map<std::string_view, int> phase_of;
  std::size_t n = 0;
  while (n < items.size() && n < options.max_batch) {
    int phase = device_phase(items[n].item);
    if (phase >= 0) {
      auto [it, fresh] = phase_of.try_emplace(device_of(items[n].item), phase);
      if (!fresh && phase < it->second) break;  // would be reordered: next batch
      it->second = std::max(it->second, phase);
    }
    ++n;
  }
  return n;
}

bool store_writer::impl::push(std::unique_lock<std::mutex>& lock, write_item& item,
                              write_done& done, bool urgent) {
  if (stopping) {
    lock.unlock();
    if (done) done(fail(error_kind::internal, "store writer is stopped"));
    return true;
  }
  if (queue.size() >= options.queue_capacity + (urgent ? options.urgent_reserve : 0)) return false;
  queue.push_back({std::move(item), std::move(done), steady::now()});
  ++submitted;
  // The writer only needs waking when it waits for a first item or a full batch.
  bool wake_writer = queue.size() == 1 || queue.size() == options.max_batch;
  lock.unlock();
  if (wake_writer) wake.notify_one();
  return true;
}

void store_writer::impl::write(pending& p, std::size_t lo, std::size_t hi) {
  bool whole = lo == 0 && hi == p.dones.size();
  result<void> r = whole ? attempt_until_settled(p.batch) : attempt_until_settled(p.part(lo, hi));
  if (r) {
    committed_items += hi - lo;
    ++batches;
    store_metrics().committed_items.add(hi - lo);
    store_metrics().batch_items.observe(static_cast<double>(hi - lo));
  } else if (r.error().kind == error_kind::database && hi - lo > 1) {
    // Refused data: halve until the refused items are alone, so one bad item
    // does not fail the good ones committed beside it.
    std::size_t mid = lo + (hi - lo) / 2;
    write(p, lo, mid);
    write(p, mid, hi);
    return;
  } else {
    for (std::size_t i = lo; i < hi; ++i)
      if (p.slots[i].kind == 0) store_metrics().reports_refused_by_store.add();  // status_report
    log::warn("write refused",
              {{"db", db_name}, {"items", std::to_string(hi - lo)}, {"error", r.error().message}});
  }
  if (!r && hi - lo == 1 && p.slots[lo].kind == 0) {
    // One refused report: its completion learns which one (the session
    // tells the device, PROTOCOL.md §3.5).
    r.error().subject = p.batch.reports[p.slots[lo].pos].stanza_id;
  }
  for (std::size_t i = lo; i < hi; ++i)
    if (p.dones[i]) p.dones[i](r);
}

// Tries the batch until it commits or fails for a reason retrying cannot fix.
// Every attempt passes the same batch, token included: an attempt whose
// connection was lost at COMMIT may have committed, and the store then
// recognises the token instead of writing the batch again (store.hpp).
result<void> store_writer::impl::attempt_until_settled(const write_batch& batch) {
  std::optional<steady::time_point> lost_since;  // the first attempt that may have committed
  bool warned = false;
  for (;;) {
    if (!db && !ensure_connected()) {
      wait_backoff();
      continue;
    }
    if (!db) return fail(error_kind::usage, "cannot open the database");
    if (lost_since && !warned && steady::now() - *lost_since > batch_token_keep) {
      warned = true;
      log::warn(
          "retrying a batch whose commit may have succeeded longer ago than tokens are kept:"
          " it may be stored twice",
          {{"db", db_name}, {"items", std::to_string(batch.size())}});
    }
    const auto started = steady::now();
    auto r = db->apply(batch);
    if (r) {
      store_metrics().commit_seconds.observe(
          std::chrono::duration<double>(steady::now() - started).count());
      note_up();
      return r;
    }
    if (!transient(r.error())) return r;
    if (r.error().kind == error_kind::connect && !lost_since) lost_since = steady::now();
    note_outage(r.error());
    db.reset();  // reconnect: the old connection may be dead or wedged
    wait_backoff();
  }
}

// True when connected; false after a transient failure (retry later). A
// permanent failure (a bad URL) leaves db empty and returns true, so the
// caller fails the batch instead of waiting forever.
bool store_writer::impl::ensure_connected() {
  if (db) return true;
  auto s = connect();
  if (!s) {
    if (!transient(s.error())) {
      log::error("cannot open the database", {{"error", s.error().message}});
      return true;
    }
    note_outage(s.error());
    return false;
  }
  db = std::move(*s);
  db_name = db->describe();
  database_up = true;
  return true;
}

void store_writer::impl::note_outage(const error& e) {
  database_up = false;
  if (!outage_logged) {
    store_metrics().outages.add();
    outage_logged = true;
    outage_since = steady::now();
    outage_retries = 0;
    log::warn("database unavailable; holding writes and retrying",
              {{"db", db_name}, {"error", e.message}});
  } else {
    log::debug("database still unavailable", {{"db", db_name}, {"error", e.message}});
  }
}

void store_writer::impl::note_up() {
  database_up = true;
  retry_delay.reset();
  if (outage_logged) {
    outage_logged = false;
    log::info("database available again", {{"db", db_name},
                                           {"outage", millis_text(steady::now() - outage_since)},
                                           {"retries", std::to_string(outage_retries)}});
  }
}

void store_writer::impl::wait_backoff() {
  ++retries;
  ++outage_retries;
  store_metrics().retries.add();
  // Jittered so that servers sharing one database do not all retry at the
  // same instant when it comes back; never below retry_min.
  std::this_thread::sleep_for(std::max(options.retry_min, retry_delay.next()));
}

store_writer::store_writer(std::function<result<std::unique_ptr<store>>()> connect,
                           writer_options options)
    : impl_(std::make_unique<impl>()) {
  impl_->connect = std::move(connect);
  impl_->options = options;
  impl_->options.max_batch = std::max<std::size_t>(options.max_batch, 1);
  impl_->options.queue_capacity = std::max<std::size_t>(options.queue_capacity, 1);
  impl_->retry_delay = backoff({options.retry_min, options.retry_max, 0.5});
  impl_->thread = std::thread([this] {
    name_this_thread("iotxmpp-writer");
    impl_->writer_id = std::this_thread::get_id();
    impl_->run();
  });
}

store_writer::~store_writer() { stop(); }

bool store_writer::try_submit(write_item&& item, write_done&& done, bool urgent) {
  std::unique_lock lock(impl_->mutex);
  return impl_->push(lock, item, done, urgent);
}

void store_writer::when_space(std::function<void()> ready) {
  impl& m = *impl_;
  std::unique_lock lock(m.mutex);
  if (m.stopping || m.queue.size() < m.options.queue_capacity) {
    lock.unlock();
    ready();
    return;
  }
  m.space_waiters.push_back(std::move(ready));
}

void store_writer::submit_wait(write_item item, write_done done) {
  impl& m = *impl_;
  std::unique_lock lock(m.mutex);
  m.space.wait(lock, [&] { return m.stopping || m.queue.size() < m.options.queue_capacity; });
  m.push(lock, item, done);
}

void store_writer::flush() {
  impl& m = *impl_;
  if (std::this_thread::get_id() == m.writer_id.load()) return;  // would wait for itself
  std::unique_lock lock(m.mutex);
  std::uint64_t target = m.submitted;
  m.flush_upto = std::max(m.flush_upto, target);
  m.wake.notify_one();
  m.settled.wait(lock, [&] { return m.completed >= target; });
}

void store_writer::stop() {
  impl& m = *impl_;
  {
    std::lock_guard lock(m.mutex);
    m.stopping = true;
  }
  m.wake.notify_one();
  m.space.notify_all();
  if (m.thread.joinable() && std::this_thread::get_id() != m.writer_id.load()) m.thread.join();
  std::vector<std::function<void()>> ready;
  {
    std::lock_guard lock(m.mutex);
    ready.swap(m.space_waiters);
  }
  for (auto& r : ready) r();  // they will find the writer stopped
}

writer_stats store_writer::stats() const {
  const impl& m = *impl_;
  writer_stats s;
  s.committed_items = m.committed_items;
  s.batches = m.batches;
  s.retries = m.retries;
  s.database_up = m.database_up;
  std::lock_guard lock(m.mutex);
  s.queued_now = m.submitted - m.completed;
  s.waiting_now = m.queue.size();
  return s;
}

}  // namespace iotxmpp
