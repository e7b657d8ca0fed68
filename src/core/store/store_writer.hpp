#pragma once
// The batched writer: takes records from any thread, commits them on its own
// thread in transactions of many rows, and tells each producer once its
// record is durable. The queue is bounded (back-pressure, never dropping);
// while the database is away it keeps everything, retries with back-off and
// reconnects.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <variant>

#include "core/store/store.hpp"

namespace iotxmpp {

// An account_login joins the batch as it is (no coalescing: the store keeps
// the latest instant of several anyway).
using write_item = std::variant<status_report, presence_update, recommendation, device_touch,
                                device_offline, account_login>;
// Called once per item, on the writer thread, when the item completed:
// with success once its transaction committed (other connections see the
// item by then; a duplicate report counts as committed), or with the error
// that refused it for good (error_kind::database: its data was refused;
// usage: the database cannot be opened). Must not throw, block for long, or
// call flush() / stop(); it may submit more items.
//
// Order: completions run one at a time and come in queue order, the order
// in which accepting try_submit() / submit_wait() calls took the writer's
// lock, across all producers. So a producer's completions come in the order
// of its accepted submissions (a try_submit() that returned false submitted
// nothing), and when item N completes, every item queued before it has
// completed. This holds
//   - for urgent items: `urgent` only admits an item into the reserve when
//     the queue is full; it joins the back of the queue and never overtakes;
//   - for refused items: a refused batch is retried by halves, the earlier
//     half first, and a refused item completes, with its error, in its place;
//   - across retries and reconnects: the batch in flight is retried until it
//     settles, and nothing queued behind it completes first.
// Except at stop(): an item submitted once stop() has begun completes at once
// on the submitting thread with error_kind::internal, before the items
// queued ahead of it that stop() is still committing (a completion that
// submits then sees its item's completion run inside it, ahead of the rest of
// its batch). A producer that counts completions stops submitting first.
// A report refused for good on its own completes with its stanza id in the
// error's `subject`.
using write_done = std::function<void(const result<void>&)>;

struct writer_options {
  // Items waiting, not counting the batch in flight (~15 MB of reports).
  std::size_t queue_capacity = 50000;
  // Extra room for urgent items (try_submit's `urgent`): records of an answer
  // already given, whose producer should not stall behind a flood of
  // reports. Still bounded: an urgent item waits too once this is used up.
  std::size_t urgent_reserve = 1024;
  // Items per transaction. As large as the queue: under load the writer then
  // takes everything waiting in one commit, and each commit costs (SQLite
  // rewrites every index page it touched; bench/store_bench measures it).
  // A light load still commits within max_delay, in small batches.
  std::size_t max_batch = 50000;
  std::chrono::milliseconds max_delay{5};  // a partial batch waits at most this long
  // Back-off while the database is away: the delay before retry n is
  // min(retry_max, retry_min * 2^n) less a random part of up to half
  // (core/base/backoff.hpp), never below retry_min nor above retry_max.
  std::chrono::milliseconds retry_min{100};
  std::chrono::milliseconds retry_max{5000};
  // The node this writer commits for (write_batch::node): its reports,
  // presences and binds become the node's feed events, numbered in
  // submission order. Empty: none (tools, tests).
  std::string node{};
};

struct writer_stats {
  std::uint64_t committed_items = 0;  // items whose transaction committed
  std::uint64_t batches = 0;          // transactions committed
  std::uint64_t retries = 0;          // failed attempts retried (connects included)
  std::uint64_t queued_now = 0;       // submitted, not yet completed
  std::uint64_t waiting_now = 0;      // in the queue, not yet taken into a batch
  bool database_up = false;           // the last attempt reached the database
};

class store_writer {
 public:
  // Starts the writer thread. `connect` opens a store; it is called on the
  // writer thread, first at start and again after each transient failure
  // (store.hpp lists which errors are transient: the batch and the queue are
  // kept and retried, forever). A refused batch (error_kind::database) is
  // narrowed by halves so that only the refused items fail.
  explicit store_writer(std::function<result<std::unique_ptr<store>>()> connect,
                        writer_options options = {});
  ~store_writer();  // stop()
  store_writer(const store_writer&) = delete;
  store_writer& operator=(const store_writer&) = delete;

  // Queues one item with its completion (`done` may be empty). Returns false
  // and queues nothing when the queue is full, leaving `item` and `done`
  // untouched (not moved from): the caller waits (when_space) and submits
  // them again. After stop(), `done` is called at once with an
  // error_kind::internal error and the call returns true.
  bool try_submit(write_item&& item, write_done&& done = {}, bool urgent = false);
  // Calls `ready` once when the queue has room: at once, on the calling
  // thread, if it has room now; otherwise later on the writer thread.
  void when_space(std::function<void()> ready);
  // Waits for room, then queues (for tools and tests).
  void submit_wait(write_item item, write_done done = {});
  // Returns once everything queued before the call has completed (committed
  // or refused); a partial batch is written at once rather than after
  // max_delay. Blocks for as long as the database is away.
  void flush();
  // Commits everything queued, completing each item in queue order, then
  // stops the thread; later submissions complete at once with an error (see
  // write_done). Idempotent. Blocks for as long as the database is away:
  // nothing accepted is dropped.
  void stop();
  writer_stats stats() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace iotxmpp
