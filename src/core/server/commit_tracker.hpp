#pragma once
// What a session's writes have become: how many it queued, how many the
// store writer completed, and the replies that must wait for them (a ping
// answer proves every report before it is stored, PROTOCOL.md §3.5). The
// session asks it what to send; XEP-0198 acks will read committed() from it.
//
// The contract:
// - A write counts as completed once the store writer calls its completion:
//   its transaction committed (the rows are visible to other connections),
//   or the database refused it for good (it is lost, and counted as such).
// - The writer completes one producer's writes on its own thread in the
//   order they were submitted (store_writer.hpp). So the number of
//   completions is the sequence number of the last completed write:
//   "completed() == N" means writes 1..N are all done.
// - A deferred reply is released once every write submitted before it was
//   deferred has completed, in the order replies were deferred. It is sent
//   as given, or as its `if_lost` text when a write of this session was lost
//   since the last reply that vouched for writes (each loss is told once).
//
// Threads: submitted(), defer(), release() and vouch() on the session's
// thread; completed() on the writer's thread. Memory: 32 bytes while
// nothing waits; deferred replies live on the heap only while they wait.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace iotxmpp {

class commit_tracker {
 public:
  commit_tracker() = default;
  commit_tracker(const commit_tracker&) = delete;
  commit_tracker& operator=(const commit_tracker&) = delete;
  ~commit_tracker();

  // Session thread: the writer accepted one more write.
  void submitted() { ++submitted_; }
  // Writes accepted so far, and completed so far (committed or lost).
  std::uint64_t submitted_count() const { return submitted_; }
  std::uint64_t completed_count() const { return completed_.load(); }
  // True while some accepted write has not completed.
  bool in_flight() const { return completed_.load() < submitted_; }

  // Writer thread: the next write completed (`ok` false: refused for good).
  // True when a deferred reply waits for exactly this completion: the caller
  // then runs release() on the session's thread (one hop per waited reply,
  // none per write).
  bool completed(bool ok);

  // Writer thread, before that write's completed(false): the refused write
  // was status report `id` ("" when it had none). Rare: a heap node each.
  void refused_report(std::string id);
  // Session thread: calls f(std::string& id) for each refused report noted
  // so far, oldest first, and forgets them. Once completed_count() covers a
  // refused write, its report is here: tell the device before anything
  // vouches for that write (XEP-0198 acks, PROTOCOL.md §3.5).
  template <class F>
  void take_refused(F&& f);

  // Session thread: holds `reply` until every write submitted so far has
  // completed. Call release() next: it sends the reply at once when those
  // writes completed meanwhile, and otherwise arms the wait.
  void defer(std::string reply, std::string if_lost);
  // Session thread: calls send(std::string&) for every deferred reply whose
  // writes have all completed, oldest first. Returns true when none waits
  // any longer.
  template <class Send>
  bool release(Send&& send);
  // The text that may vouch for the writes done: `reply`, or `if_lost` when
  // a write was lost since the last vouching reply (an empty `if_lost`
  // vouches nothing and is never chosen).
  std::string& vouch(std::string& reply, std::string& if_lost);

  bool waiting() const { return deferred_ != nullptr; }

 private:
  struct deferred_reply {
    std::uint64_t after;  // released once this many writes completed
    std::string reply;
    std::string if_lost;
  };
  bool arm();

  std::uint64_t submitted_ = 0;              // session thread
  std::atomic<std::uint64_t> completed_{0};  // writer thread
  std::atomic<std::uint64_t> awaited_{0};    // the completion the oldest reply waits for
  // Writes refused (writer thread) and how many of those a reply told of;
  // compared for inequality only, so wrapping is fine.
  std::atomic<std::uint32_t> lost_{0};
  std::uint32_t lost_told_ = 0;
  std::unique_ptr<std::vector<deferred_reply>> deferred_;
  // Refused reports not yet told, newest first (pushed on the writer
  // thread, taken whole on the session's).
  struct refused_node {
    std::string id;
    refused_node* next;
  };
  std::atomic<refused_node*> refused_{nullptr};
};

template <class F>
void commit_tracker::take_refused(F&& f) {
  refused_node* list = refused_.exchange(nullptr);
  if (!list) return;
  refused_node* oldest = nullptr;  // reverse: oldest first
  while (list) {
    refused_node* next = list->next;
    list->next = oldest;
    oldest = list;
    list = next;
  }
  while (oldest) {
    std::unique_ptr<refused_node> node(oldest);
    oldest = oldest->next;
    f(node->id);
  }
}

template <class Send>
bool commit_tracker::release(Send&& send) {
  for (;;) {
    if (!deferred_) {
      awaited_.store(0);
      return true;
    }
    auto& queue = *deferred_;
    const std::uint64_t done = completed_.load();
    std::size_t n = 0;
    while (n < queue.size() && queue[n].after <= done) {
      send(vouch(queue[n].reply, queue[n].if_lost));
      ++n;
    }
    queue.erase(queue.begin(), queue.begin() + static_cast<std::ptrdiff_t>(n));
    if (queue.empty()) {
      deferred_.reset();
      awaited_.store(0);
      return true;
    }
    if (arm()) return false;
  }
}

}  // namespace iotxmpp
