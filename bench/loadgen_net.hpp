#pragma once
// The load generator's network core: one epoll loop over non-blocking
// sockets. A connection sends from bytes built before the clock starts (the
// loop never formats or copies what it sends) and hands what it receives to
// the scenario's callback. TLS (OpenSSL on the same non-blocking sockets)
// is optional per connection: from the first byte, or started later on an
// open connection (STARTTLS).

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

struct ssl_st;
struct ssl_ctx_st;

namespace loadgen {

using steady = std::chrono::steady_clock;

struct endpoint {
  std::string host = "127.0.0.1";
  unsigned short port = 5222;
};

// Counts occurrences of a needle in a byte stream that arrives in pieces,
// including matches split across pieces.
class needle_counter {
 public:
  explicit needle_counter(std::string needle = {}) : needle_(std::move(needle)) {}
  // Feeds the next piece; returns the matches completed in it.
  std::size_t feed(std::string_view data);
  std::size_t count() const { return count_; }

 private:
  std::string needle_;
  std::string carry_;  // the last needle.size()-1 bytes seen
  std::size_t count_ = 0;
};

// A client TLS context shared by all connections: TLS 1.2 at least, no
// session cache (every handshake is a full one, as for a fleet of devices
// each connecting once). With `ca_file` the server's certificate is
// verified against it (not its name); without, it is not verified.
class tls_client_context {
 public:
  explicit tls_client_context(const std::string& ca_file = {});
  ~tls_client_context();
  tls_client_context(const tls_client_context&) = delete;
  tls_client_context& operator=(const tls_client_context&) = delete;
  ssl_ctx_st* get() const { return ctx_; }

 private:
  ssl_ctx_st* ctx_ = nullptr;
};

struct connection {
  int fd = -1;
  ssl_st* ssl = nullptr;      // TLS on this connection, once started
  ssl_ctx_st* tls = nullptr;  // open(): start TLS as soon as TCP connects
  bool handshaking = false;   // TLS started, handshake not complete
  bool connected = false;
  bool closed = false;       // by us or by the peer
  bool peer_closed = false;  // the peer closed or reset it
  std::string_view out;      // bytes still to send; the storage belongs to the scenario
  std::string scratch;       // storage for small messages built on the fly
  std::string in;            // what a request/response step has received so far
  std::size_t received = 0;  // bytes received in total
  int step = 0;              // the scenario's state
  std::size_t index = 0;     // the scenario's number for it
  steady::time_point started{};
  // Called once the connection can carry the scenario's bytes: after the
  // TCP connect, or after the TLS handshake when TLS is on (for STARTTLS,
  // again after start_tls's handshake). And with each piece received
  // (decrypted).
  std::function<void(connection&)> on_connect;
  std::function<void(connection&, std::string_view)> on_read;
};

class event_loop {
 public:
  event_loop();
  ~event_loop();
  event_loop(const event_loop&) = delete;
  event_loop& operator=(const event_loop&) = delete;

  // Starts a non-blocking connect to `to`, from `source` (an IPv4 address on
  // this host; empty: the kernel's choice), with TLS from the first byte
  // when `tls` is set. `c` must stay at its address until closed. False
  // (with last_error()) when the socket cannot be made.
  bool open(connection& c, const endpoint& to, const std::string& source = {},
            ssl_ctx_st* tls = nullptr);
  // Starts a TLS handshake on the open connection `c` (STARTTLS, after the
  // server's go-ahead, with nothing of ours pending); on_connect is called
  // again once it completes. May be called from on_read.
  void start_tls(connection& c, ssl_ctx_st* tls);
  // Sends `bytes`, which must stay valid until sent; appends to scratch
  // (copying) when something is still pending.
  void send(connection& c, std::string_view bytes);
  // Sends a copy of `bytes` (small messages built on the fly).
  void send_copy(connection& c, std::string bytes);
  // Closes; `reset` sends RST (no TIME_WAIT left behind on either side).
  void close(connection& c, bool reset = true);
  // Polls until done() or the deadline; false on timeout.
  bool run(const std::function<bool()>& done, steady::time_point deadline);
  // Counts an unexpected event (connect refused, peer reset, a stream
  // error), keeps the first description, and closes `c`.
  void fail(connection& c, std::string what);
  std::size_t failures() const { return failures_; }
  const std::string& last_error() const { return last_error_; }

 private:
  void flush(connection& c);
  void readable(connection& c);
  // TLS: drives the handshake (true once complete, on_connect called), then
  // reads and writes as far as the socket allows. Any readiness may unblock
  // either direction (TLS reads write and writes read), so every event
  // pumps both.
  bool handshake(connection& c);
  void pump(connection& c);
  std::string tls_error(connection& c, int ret, const char* what);

  int epoll_fd_ = -1;
  std::string buffer_;
  std::size_t failures_ = 0;
  std::string last_error_;
};

// Blocking helpers for the latency prober, which runs on its own thread.
// Connects (blocking, TCP_NODELAY); -1 on failure.
int blocking_connect(const endpoint& to);
// Reads into `acc` until it contains `needle` or the timeout; true if found.
bool read_until(int fd, std::string& acc, std::string_view needle,
                std::chrono::milliseconds timeout);
bool write_all(int fd, std::string_view bytes);

}  // namespace loadgen
