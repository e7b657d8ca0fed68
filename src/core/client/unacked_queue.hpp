#pragma once
// The reports one simulated device has sent and the server has not yet
// acknowledged, kept (with their ids) so that a new connection can resend
// them. "Acknowledged" is the ping barrier (PROTOCOL.md §3.4, architecture.md
// "One status report"): the server answers a ping only once every report the
// session sent before it is committed, so a ping's answer acknowledges the
// reports written before the ping on that same connection, and no others.
//
// Each report gets an index (1, 2, ...) in the order it was made. The queue
// remembers how far it has written on the current connection
// (written_through); a ping sent then carries that index as its mark. After
// a connection is lost nothing counts as written any more, so the next
// connection writes (resends) every report still held, in order, with its
// original id: the server's dedup by (room, id) stores each once.
//
// Bounded: at most `capacity` reports are held; push() refuses beyond that
// and the device waits (back-pressure), it never drops a report. Memory is
// the serialized stanzas (about 450 bytes a report) and their ids.
// Not thread-safe: one device's thread.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>

namespace iotxmpp {

class unacked_queue {
 public:
  explicit unacked_queue(std::size_t capacity) : capacity_(capacity) {}

  std::size_t capacity() const { return capacity_; }
  std::size_t size() const { return held_.size(); }
  bool empty() const { return held_.empty(); }
  bool full() const { return held_.size() >= capacity_; }

  // Holds a report just made; false (nothing held) when full.
  bool push(std::string id, std::string stanza);

  // The reports not yet written on the current connection, serialized in
  // order, and the mark a ping written right after them carries.
  struct batch {
    std::string bytes;
    std::size_t reports = 0;
    std::size_t resends = 0;    // of them, reports written on an earlier connection
    std::uint64_t through = 0;  // the index of the last one (written_through() when none)
  };
  batch unwritten() const;
  // The batch up to `through` went out on the current connection.
  void written(std::uint64_t through);
  // Index of the last report written on the current connection (0: none).
  std::uint64_t written_through() const { return written_through_; }

  // A ping with mark `through` was answered: drops every report up to it;
  // returns how many it dropped (0 for a mark already covered).
  std::size_t acknowledge(std::uint64_t through);
  // The server refused report `id` (an error message with its id): drops
  // it; false when no held report has that id.
  bool refuse(std::string_view id);
  // The connection ended: nothing is written on the next one, so
  // unwritten() gives every held report again. Marks of the old
  // connection's pings must not be acknowledged after this.
  void connection_lost() { written_through_ = 0; }

 private:
  struct report {
    std::uint64_t index;
    std::string id;
    std::string stanza;
  };
  std::size_t capacity_;
  std::deque<report> held_;
  std::uint64_t next_index_ = 1;
  std::uint64_t written_through_ = 0;       // on the current connection
  std::uint64_t ever_written_through_ = 0;  // on any connection
};

}  // namespace iotxmpp
