#pragma once
// One client connection of `serve` (asio's chat-server session shape):
// callback chains read (wait, then read into the shard's buffer) and write
// (one write in flight), and a
// per-thread sweeper drives the timeouts. Lives on one io_context thread
// (its shard); other threads reach it only through deliver() and close().
// Included by session.cpp and server.cpp only (it pulls in asio).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/asio.hpp"
#include "core/hub.hpp"
#include "core/negotiation.hpp"
#include "core/peer.hpp"
#include "core/stanza_handlers.hpp"
#include "core/stream_framer.hpp"

namespace iotxmpp {

class session;
using steady = std::chrono::steady_clock;

// Counts connections per source address that have not bound yet, so a flood
// of half-open logins from one address is refused (PROTOCOL.md §4).
class negotiation_limiter {
 public:
  bool try_acquire(const std::string& address, std::size_t max);
  void release(const std::string& address);

 private:
  std::mutex mutex_;
  std::unordered_map<std::string, std::size_t> counts_;
};

// One io_context and the sessions it runs. Touched by its own thread only.
struct shard {
  asio::io_context io{1};
  std::unordered_set<session*> sessions;
  // One read buffer for all sessions of the shard: a session copies out only
  // what it cannot process yet, so an idle session holds no read buffer.
  // Small, so one busy session's turn is short and others' requests wait
  // little: 4 KiB gave recommend p99 ~15 ms under full ingest against ~70 ms
  // with 64 KiB, at the same ingest rate (bench/README.md).
  std::vector<char> read_buffer = std::vector<char>(4 * 1024);
  asio::steady_timer sweeper{io};
};

// What sessions share across shards.
struct session_context {
  hub& shared;
  const server_config& config;
  negotiation_limiter limiter;
  std::atomic<std::size_t> live_sessions{0};  // started and not yet finished
  std::atomic<bool> stopping{false};
};

class session final : public peer, public std::enable_shared_from_this<session> {
 public:
  session(asio::ip::tcp::socket socket, shard& home, session_context& context);
  ~session() override;

  // Starts reading. Call on the home thread.
  void start();

  const jid& address() const override { return sender_.address; }
  void deliver(std::string bytes) override;
  void close(stream_condition condition, std::string text) override;

  // Timeouts, staleness and periodic last-update writes; home thread only.
  void sweep(steady::time_point now);
  // Drops the connection without a stream error (shutdown deadline).
  void abort();

 private:
  void wait_readable();
  void on_readable(boost::system::error_code ec);
  void wait_for_space();
  void on_space();
  // Feeds bytes to the framer and acts on its events. Returns false when it
  // had to stop because the store writer is full (back-pressure); `data` is
  // then left at the first byte not yet consumed.
  bool process(std::string_view& data);
  bool on_element(pugi::xml_node element);
  void apply(negotiation::step step);
  void on_bound();
  // Queues the handler's writes and sends its reply. False when the writer
  // was full: the rest waits in stalled_ until when_space() fires.
  bool carry_out(handled result);
  bool submit_from(handled& result, std::size_t& next);
  void settle(handled& done);
  bool resume_stalled();
  void send_vouching(std::string& reply, std::string& reply_if_lost);
  bool submit(write_item& item);
  void on_committed();

  void send(std::string_view bytes);
  void start_write();
  void fail(stream_condition condition, std::string_view text, bool too_big = false);
  void finish_stream();  // clean close after the client's </stream:stream>
  void drain_inbox();
  void finish();
  std::string describe() const;

  asio::ip::tcp::socket socket_;
  shard& home_;
  session_context& context_;
  std::string remote_address_;  // IP without brackets
  unsigned short remote_port_ = 0;
  stream_framer framer_;
  std::unique_ptr<negotiation> negotiation_;  // until bound
  sender_state sender_;

  steady::time_point accepted_at_;
  steady::time_point last_activity_;
  steady::time_point last_touch_;
  steady::time_point linger_until_{};
  bool negotiating_ = true;  // holds a negotiation_limiter slot
  bool bound_ = false;
  bool closing_ = false;  // stream error or close sent; reading only to drain
  bool finished_ = false;

  // Outgoing bytes: one async_write in flight (writing_), the rest waits.
  std::string outbox_;
  std::string in_flight_;
  bool writing_ = false;

  // Bytes from other threads (feed, conflict), bounded by max_outgoing_bytes.
  std::mutex inbox_mutex_;
  std::string inbox_;
  bool inbox_posted_ = false;
  bool inbox_overflow_ = false;

  // Back-pressure: writes not yet accepted by the store writer, and the
  // reply that must follow them.
  std::unique_ptr<handled> stalled_;
  std::size_t stalled_next_ = 0;
  std::unique_ptr<asio::steady_timer> wake_;  // only while stalled by back-pressure
  std::string unread_;                        // what a read brought while stalled

  // Commit tracking: replies that wait until writes up to `seq` committed.
  std::uint64_t submitted_ = 0;              // writes queued, on this thread
  std::atomic<std::uint64_t> completed_{0};  // writes completed, by the writer thread
  std::atomic<std::uint64_t> awaited_{0};    // the completion a deferred reply waits for
  struct deferred_reply {
    std::uint64_t after;  // sent once this many writes completed
    std::string reply;
    std::string reply_if_lost;
  };
  std::vector<deferred_reply> deferred_;  // replies awaiting a commit
  std::atomic<std::uint64_t> lost_{0};    // writes the database refused (writer thread)
  std::uint64_t lost_told_ = 0;           // of those, already reported to the client
};

}  // namespace iotxmpp
