#pragma once
// One client connection of `serve`, in the shape of asio's http/server
// `connection`: socket I/O, framing and the write queue. What the stanzas
// mean is the handlers' (stanza_handlers.hpp), what the writes became is the
// commit tracker's (commit_tracker.hpp), and the device's row is
// device_rows'. Callback chains read (wait, then read into the shard's
// buffer) and write (one write in flight); a per-thread sweeper drives the
// timeouts. Lives on one io_context thread (its shard); other threads reach
// it only through deliver() and close().
//
// Its life, and the one way it ends (end()):
//
//   connected --slot taken--> negotiating --bind--> bound
//       |                         |                   |
//       +-- end(stream error, client's </stream>, shutdown) --> closing
//       |                         |                   |           |
//       |                         |                   |   output flushed and
//       |                         |                   |   the peer closed, or
//       |                         |                   |   the linger is over
//       |                         |                   |           v
//       +-- end(lost: EOF, reset, write error, cut) --------->  closed
//
// closing: nothing more is read into the handlers (input is drained and
// dropped, so the kernel does not reset the connection over our stream
// error); closed: the socket is closed, the session left its shard, the
// registry and the feed, and its device row was marked offline.
//
// The transport seam: the session touches its connection only through
// transport_ (transport.hpp), TCP or TLS. STARTTLS: after <starttls/> the
// session reads nothing until <proceed/> is written, then turns TLS on and
// reads on (any byte the client sent after <starttls/> in the clear ends the
// stream).
// Included by session.cpp and server.cpp only (it pulls in asio).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/base/asio.hpp"
#include "core/server/account_directory.hpp"
#include "core/server/commit_tracker.hpp"
#include "core/server/device_rows.hpp"
#include "core/server/feed.hpp"
#include "core/server/peer.hpp"
#include "core/server/registry.hpp"
#include "core/server/room_cache.hpp"
#include "core/server/stanza_handlers.hpp"
#include "core/server/stream_management.hpp"
#include "core/server/tls_context.hpp"
#include "core/server/transport.hpp"
#include "core/xml/stream_framer.hpp"
#include "core/xmpp/negotiation.hpp"

namespace iotxmpp {

class session;
class xml_element;
struct session_context;
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
  // Its live sessions, linked through the sessions themselves (no node and
  // no hash bucket per session): see session::for_each.
  session* first = nullptr;
  // What the sessions share across shards (set by the server).
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

// What sessions share across shards. Every reference outlives the sessions.
struct session_context {
  session_context(const server_config& c, const rules& r, registry& o, feed& f, room_cache& rc,
                  store_writer& w)
      : config(c),
        policy{.domain = c.domain,
               .max_stanza_bytes = c.limits.max_stanza_bytes,
               .idle_timeout = c.idle_timeout,
               .tls_offered = !c.tls_cert.empty(),
               .tls_required = !c.tls_cert.empty() && !c.tls_optional,
               .anonymous = c.anonymous,
               .plain_in_clear = c.plain_in_clear},
        handlers{c, r, o, rc},
        online(o),
        followers(f),
        rooms(rc),
        writer(w) {}

  const server_config& config;
  const stream_policy policy;  // what negotiation announces
  const handler_context handlers;
  registry& online;
  feed& followers;
  room_cache& rooms;
  store_writer& writer;
  // TLS (null without a certificate) and the accounts, set by the server.
  std::shared_ptr<tls_holder> tls;
  account_directory* accounts = nullptr;
  negotiation_limiter limiter;
  connection_rate_limiter connection_rates;
  std::atomic<std::size_t> live_sessions{0};  // started and not yet closed
  // Set by the server when it stops: called on the thread of a session that
  // closed and left none (again if a session accepted before the stop
  // starts and ends later: the server's handler runs once).
  std::function<void()> on_last_closed;
  std::atomic<bool> stopping{false};
  // XEP-0198: resumable streams by id (a detached session waits here for
  // <resume/> until config.resume_window has passed).
  std::mutex resume_mutex;
  std::unordered_map<std::string, std::weak_ptr<session>> resumable;
};

class session final : public peer, public std::enable_shared_from_this<session> {
 public:
  // `direct_tls`: TLS from the first byte (a --listen-tls listener).
  session(session_socket socket, shard& home, bool direct_tls = false);
  // The client is `remote` rather than the socket's peer: a PROXY listener's
  // header named it (proxy_intake.hpp).
  session(session_socket socket, const asio::ip::tcp::endpoint& remote, shard& home,
          bool direct_tls);
  ~session() override;

  // Starts reading. Call on the home thread.
  void start();

  const jid& address() const override { return address_; }
  void deliver(std::string bytes) override;
  void close(stream_condition condition, std::string text) override;

  // Timeouts, staleness and the device row's refresh; home thread only.
  void sweep(steady::time_point now);

  // Why a session ends: the argument of end(), its one way to end.
  struct ending {
    enum class how : std::uint8_t {
      stream_error,  // send <stream:error> (condition, text), then close
      stream_end,    // the client sent </stream:stream>: answer it, then close
      lost,          // the transport is gone or must go now: close at once
    } kind;
    stream_condition condition = stream_condition::undefined_condition;
    std::string_view text{};
    bool too_big = false;  // add XEP-0205's <stanza-too-big/>
    // Or this application condition (XEP-0198's <handled-count-too-high/>).
    const xml_element* app = nullptr;

    static ending error(stream_condition c, std::string_view text, bool too_big = false) {
      return {how::stream_error, c, text, too_big};
    }
    static ending client_closed() { return {how::stream_end}; }
    static ending lost() { return {how::lost}; }
  };
  // Ends the session (idempotent; a later, harsher ending may cut a
  // closing session short). Home thread only.
  void end(const ending& why);

  // Asks every session of `home` to end with `condition`; home thread.
  static void end_all(shard& home, const ending& why);
  // The next turn of every session in home.yielded; home thread only.
  static void resume_yielded(shard& home);

  // Calls f(session&) for every live session of `home`, on its thread. f may
  // end the session it is given (which unlinks it), but no other.
  template <class F>
  static void for_each(shard& home, F&& f) {
    for (session* s = home.first; s != nullptr;) {
      session* next = s->next_;
      f(*s);
      s = next;
    }
  }

 private:
  session(transport&& connection, shard& home, bool direct_tls);
  session(transport&& connection, const asio::ip::tcp::endpoint& remote, shard& home,
          bool direct_tls);

  // detached: a resumable stream whose connection was lost, waiting for
  // <resume/> (XEP-0198): no transport, still registered and subscribed.
  enum class phase : std::uint8_t { connected, negotiating, bound, closing, detached, closed };

  // How a turn of processing ended: all bytes used, the turn's stanza budget
  // spent (yield), or paused: the store writer is full (back-pressure) or a
  // room look-up is under way.
  enum class turn { done, yield, paused };
  // Stanzas one session handles before every other ready session of its
  // shard has had a turn: under full ingest a request waits for about one
  // round of the others' turns. Measured beside 50 connections sending at
  // full rate (bench/README.md): recommend p99 0.9-1.4 ms with 1, 1.1-1.3 ms
  // with 2, 2.3-3 ms with 3, 3.4 ms with 6; the ingest rate 134-149k reports/s
  // with 1, 154-161k with 2, 172k with 6.
  static constexpr std::size_t turn_stanzas = 2;

  session_context& context() const { return *home_.context; }
  void set_phase(phase to);  // phase_ = to, and the sessions gauges (session_metrics.cpp)
  bool reading() const { return phase_ < phase::closing; }

  // Input.
  void wait_readable();
  void on_readable(boost::system::error_code ec);
  void continue_unread();  // a turn on what an earlier turn left in busy_->unread
  void after(turn t);
  void wait_to_resume();
  void on_resume();
  // Done with a read: wait for the next one, after a pause when the session
  // sends faster than its rates (false when it was closed for that).
  void read_on();
  // Feeds bytes to the framer and acts on its events, for at most
  // turn_stanzas stanzas. Unless done, `data` is left at the first byte not
  // yet consumed.
  turn process(std::string_view& data);
  bool on_element(pugi::xml_node element);
  // Carries out a negotiation step; false when reading must pause (an
  // account look-up, or TLS about to start).
  bool apply(negotiation::step step);
  void look_up(std::string name);
  bool begin_tls();  // <proceed/> is written: TLS from here on
  void note_channel_binding();
  void on_bound();
  // XEP-0198 elements after bind, and the count of stanzas sent.
  void on_stream_management(pugi::xml_node element);
  void count_sent(std::string_view bytes, std::uint32_t stanzas);
  // Sends a reply that vouches for writes (a ping's answer, an <a/>), after
  // an error stanza for each refused report it covers (tell_refused).
  void send_vouching(std::string_view bytes);
  void tell_refused();
  // Resumption (session_sm.cpp).
  struct handover;
  bool can_detach() const;
  void detach();
  void resume(std::string previd, std::uint32_t h);
  void hand_over(std::weak_ptr<session> to, std::uint32_t h, std::string account);
  void take_over(std::unique_ptr<handover> state);
  void resume_failed(std::string_view condition);
  void forget_resumable();
  // A <resume/> of this detached stream that waits for the stream's writes
  // to complete; hand_over goes on when the last of them does.
  struct waiting_resume {
    std::weak_ptr<session> to;
    std::uint32_t h = 0;
    std::string account;
  };
  void resume_when_committed();

  // Carrying out a handler's outcome. False when paused: the rest waits in
  // busy_->paused until the writer has room or the room look-up answered.
  bool carry_out(handled result);
  void take_effects(handled& result);
  void await_room(pending_recommend request);
  bool submit_from(handled& result, std::size_t& next);
  void settle(handled& done);
  bool resume_paused();
  bool submit(write_item& item);

  // Output.
  void send(std::string_view bytes);
  void start_write();
  void drain_inbox();

  void release();  // closed: the socket and every registration go
  std::string describe() const;

  // What only a busy session needs: made on demand, freed by relax() once it
  // holds nothing, so an idle bound session carries a null pointer instead.
  struct busy_state {
    std::string outbox;         // bytes waiting for the write in flight
    std::string in_flight;      // the bytes of the write in flight
    std::string unread;         // what a read brought that a yielded or paused turn left
    std::size_t unread_at = 0;  // of which the turns so far used this much
    // The outcome being carried out while paused, and its next write.
    std::unique_ptr<handled> paused;
    std::size_t paused_next = 0;
    // A room look-up will fill `paused`, an account look-up will answer
    // the negotiation, or TLS starts once <proceed/> is written: read
    // nothing until then.
    bool awaiting = false;
    steady::time_point linger_until{};  // closing: when to stop draining
  };
  busy_state& busy();
  void relax();

  transport transport_;
  shard& home_;
  stream_framer framer_;
  // Until bound; it also holds the client's address and the time of accept.
  std::unique_ptr<negotiation> negotiation_;
  jid address_;  // bound full JID
  // An account's room grants (null for an anonymous device: any room).
  std::shared_ptr<const std::vector<std::string>> grants_;
  std::unique_ptr<busy_state> busy_;
  session* prev_ = nullptr;  // the shard's list of live sessions
  session* next_ = nullptr;
  std::unique_ptr<asio::steady_timer> wake_;  // made the first time a turn pauses
  // Bytes from other threads (feed, conflict), bounded by max_outgoing_bytes;
  // guarded by home_.inbox_mutex like the two inbox flags below.
  std::unique_ptr<std::string> inbox_;
  std::uint32_t inbox_stanzas_ = 0;  // how many stanzas inbox_ holds
  // XEP-0198, made on <enable/>.
  std::unique_ptr<stream_management> sm_;

  steady::time_point last_activity_;
  // Rate limits (rate_limits.hpp): what this session sent against its
  // rates, and since when it has been slowed down without a break.
  token_bucket stanza_rate_;
  token_bucket byte_rate_;
  steady::time_point throttled_since_{};
  device_rows row_;
  commit_tracker commits_;
  phase phase_ = phase::connected;
  bool writing_ = false;  // one async_write of busy_->in_flight in flight
  bool inbox_posted_ = false;
  bool inbox_overflow_ = false;
  bool direct_tls_ = false;
  bool remote_loopback_ = false;  // 127.0.0.0/8 or ::1: no connection rate
  bool handed_over_ = false;      // resumed elsewhere: its device row is not ours to end
  steady::time_point detached_until_{};
  // The room this session follows on the feed (carried over on resume).
  std::unique_ptr<std::string> feed_room_;
  std::unique_ptr<waiting_resume> waiting_resume_;  // rare: only while one waits
  bool tls_starting_ = false;  // <proceed/> is queued: TLS starts once it is written
};

}  // namespace iotxmpp
