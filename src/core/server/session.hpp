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
#include <vector>

#include "core/base/asio.hpp"
#include "core/server/hub.hpp"
#include "core/xmpp/negotiation.hpp"
#include "core/server/peer.hpp"
#include "core/server/stanza_handlers.hpp"
#include "core/xml/stream_framer.hpp"

namespace iotxmpp {

class session;
struct session_context;
using steady = std::chrono::steady_clock;
// Bound to its shard's io_context type rather than a type-erased executor:
// the socket and every pending operation on it are smaller (an idle session
// holds one of each).
using session_socket = asio::basic_stream_socket<asio::ip::tcp, asio::io_context::executor_type>;

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
  // Its live sessions, linked through the sessions themselves (no node and
  // no hash bucket per session): see session::for_each.
  session* first = nullptr;
  // What the sessions share across shards (set by the first session made).
  session_context* context = nullptr;
  // One read buffer for all sessions of the shard: a session copies out only
  // what it cannot process yet, so an idle session holds no read buffer.
  // 4 KiB: a few reads' worth of stanzas per system call; how long a busy
  // session's turn lasts is bounded by session::turn_stanzas instead.
  std::vector<char> read_buffer = std::vector<char>(4 * 1024);
  // Guards the inboxes of the shard's sessions (deliver() from other threads).
  std::mutex inbox_mutex;
  asio::steady_timer sweeper{io};
  // Sessions whose turn ended with bytes left (their stanza budget spent),
  // waiting for session::resume_yielded. It is posted through a relay (a
  // handler that posts it), which puts it behind the sockets that the
  // reactor's next poll finds ready: a request that just arrived is handled
  // before the busy sessions take their next turns.
  std::vector<std::shared_ptr<session>> yielded;
  std::vector<std::shared_ptr<session>> resuming;  // resume_yielded's, reused
  bool resume_posted = false;
};

// What sessions share across shards.
struct session_context {
  hub& shared;
  const server_config& config;
  stream_policy policy;  // what negotiation announces, made from config
  negotiation_limiter limiter;
  std::atomic<std::size_t> live_sessions{0};  // started and not yet finished
  std::atomic<bool> stopping{false};
};

class session final : public peer, public std::enable_shared_from_this<session> {
 public:
  session(session_socket socket, shard& home, session_context& context);
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

  // The next turn of every session in home.yielded; home thread only.
  static void resume_yielded(shard& home);

  // Calls f(session&) for every live session of `home`, on its thread. f may
  // finish the session it is given (which unlinks it), but no other.
  template <class F>
  static void for_each(shard& home, F&& f) {
    for (session* s = home.first; s != nullptr;) {
      session* next = s->next_;
      f(*s);
      s = next;
    }
  }

 private:
  session(session_socket&& socket, const asio::ip::tcp::endpoint& remote, shard& home,
          session_context& context);

  // How a turn of processing ended: all bytes used, the turn's stanza budget
  // spent (yield), or the store writer full (stalled, back-pressure).
  enum class turn { done, yield, stalled };
  // Stanzas one session handles before every other ready session of its
  // shard has had a turn: under full ingest a request waits for about one
  // round of the others' turns. Measured beside 50 connections sending at
  // full rate (bench/README.md): recommend p99 0.9-1.4 ms with 1, 1.1-1.3 ms
  // with 2, 2.3-3 ms with 3, 3.4 ms with 6; the ingest rate 134-149k reports/s
  // with 1, 154-161k with 2, 172k with 6.
  static constexpr std::size_t turn_stanzas = 2;

  void wait_readable();
  void on_readable(boost::system::error_code ec);
  void continue_unread();  // a turn on what an earlier turn left in busy_->unread
  void after(turn t);
  void wait_for_space();
  void on_space();
  // Feeds bytes to the framer and acts on its events, for at most
  // turn_stanzas stanzas. Unless done, `data` is left at the first byte not
  // yet consumed.
  turn process(std::string_view& data);
  bool on_element(pugi::xml_node element);
  void apply(negotiation::step step);
  void on_bound();
  // Queues the handler's writes and sends its reply. False when the writer
  // was full: the rest waits in busy_->stalled until when_space() fires.
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

  // What only a busy session needs: made on demand, freed by relax() once it
  // holds nothing, so an idle bound session carries a null pointer instead.
  struct deferred_reply {
    std::uint64_t after;  // sent once this many writes completed
    std::string reply;
    std::string reply_if_lost;
  };
  struct busy_state {
    std::string outbox;         // bytes waiting for the write in flight
    std::string in_flight;      // the bytes of the write in flight
    std::string unread;         // what a read brought that a yielded or stalled turn left
    std::size_t unread_at = 0;  // of which the turns so far used this much
    // Back-pressure: the writes the store writer has not accepted yet, and
    // the reply that must follow them.
    std::unique_ptr<handled> stalled;
    std::size_t stalled_next = 0;
    std::vector<deferred_reply> deferred;  // replies awaiting a commit
    steady::time_point linger_until{};     // closing: when to stop draining
  };
  busy_state& busy();
  void relax();

  session_socket socket_;
  shard& home_;
  stream_framer framer_;
  // Until bound; it also holds the client's address and the time of accept.
  std::unique_ptr<negotiation> negotiation_;
  sender_state sender_;
  std::unique_ptr<busy_state> busy_;
  session* prev_ = nullptr;  // the shard's list of live sessions
  session* next_ = nullptr;
  std::unique_ptr<asio::steady_timer> wake_;  // made the first time back-pressure stalls us
  // Bytes from other threads (feed, conflict), bounded by max_outgoing_bytes;
  // guarded by home_.inbox_mutex like the two inbox flags below.
  std::unique_ptr<std::string> inbox_;

  steady::time_point last_activity_;
  steady::time_point last_touch_;
  bool negotiating_ = true;  // holds a negotiation_limiter slot
  bool bound_ = false;
  bool closing_ = false;  // stream error or close sent; reading only to drain
  bool finished_ = false;
  bool writing_ = false;  // one async_write of busy_->in_flight in flight
  bool inbox_posted_ = false;
  bool inbox_overflow_ = false;

  // Commit tracking: replies that wait until writes up to a count committed.
  std::uint64_t submitted_ = 0;              // writes queued, on this thread
  std::atomic<std::uint64_t> completed_{0};  // writes completed, by the writer thread
  std::atomic<std::uint64_t> awaited_{0};    // the completion a deferred reply waits for
  // Writes the database refused (writer thread) and how many of those the
  // client was told of; compared for inequality only, so wrapping is fine.
  std::atomic<std::uint32_t> lost_{0};
  std::uint32_t lost_told_ = 0;
};

}  // namespace iotxmpp
