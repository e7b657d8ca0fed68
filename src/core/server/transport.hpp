#pragma once
// The byte stream under a session: TCP, or TLS over it once STARTTLS
// succeeded or from the first byte on a direct-TLS listener (XEP-0368).
// Everything the session does to its connection goes through these calls.
//
// TLS runs OpenSSL directly on the non-blocking socket (SSL_set_fd) rather
// than through asio::ssl::stream: the stream keeps two 16 KiB buffers for
// the life of each connection, where an SSL with SSL_MODE_RELEASE_BUFFERS
// frees its buffers whenever they are empty, so an idle TLS session costs
// its SSL object and nothing more. A read or write that OpenSSL cannot
// finish says whether it waits for the socket to become readable or
// writable, and the transport waits for that.
// Included by session.hpp only (it pulls in asio).

#include <cstddef>
#include <utility>

#include "core/base/asio.hpp"

struct ssl_st;

namespace iotxmpp {

class tls_context;

// Bound to its shard's io_context type rather than a type-erased executor:
// the socket and every pending operation on it are smaller (an idle session
// holds one of each).
using session_socket = asio::basic_stream_socket<asio::ip::tcp, asio::io_context::executor_type>;

class transport {
 public:
  explicit transport(session_socket socket) : socket_(std::move(socket)) {
    boost::system::error_code ec;
    socket_.non_blocking(true, ec);  // TCP_NODELAY comes from the listener (Linux copies it)
  }
  transport(transport&& other) noexcept
      : socket_(std::move(other.socket_)), ssl_(std::exchange(other.ssl_, nullptr)) {}
  transport& operator=(transport&&) = delete;
  ~transport();

  // The peer's address; an unspecified endpoint when the socket is gone.
  asio::ip::tcp::endpoint remote() const {
    boost::system::error_code ec;
    return socket_.remote_endpoint(ec);
  }

  // From now on every byte goes through TLS (server side: the handshake
  // runs within the next reads and writes). False when OpenSSL could not
  // make the SSL object. Call it between reads, with no write in flight.
  bool start_tls(const tls_context& context);
  bool secure() const { return ssl_ != nullptr; }
  // The TLS handshake is complete (false without TLS).
  bool handshake_done() const;
  ssl_st* ssl() const { return ssl_; }

  // Calls `done(error_code)` once bytes can be read without blocking: at
  // once when TLS holds decrypted or buffered bytes already.
  template <class Handler>
  void wait_readable(Handler&& done) {
    if (ssl_ && tls_pending()) {
      asio::post(socket_.get_executor(),
                 [done = std::forward<Handler>(done)]() mutable { done({}); });
      return;
    }
    socket_.async_wait(
        read_wants_write_ ? asio::socket_base::wait_write : asio::socket_base::wait_read,
        std::forward<Handler>(done));
  }
  // Reads what is there now, without blocking (would_block when nothing).
  std::size_t read_some(asio::mutable_buffer into, boost::system::error_code& ec) {
    if (!ssl_) return socket_.read_some(into, ec);
    return tls_read(into, ec);
  }
  // Writes all of `bytes`, then calls `done(error_code, std::size_t)`. One
  // write at a time.
  template <class Handler>
  void write(asio::const_buffer bytes, Handler&& done) {
    if (!ssl_) {
      asio::async_write(socket_, bytes, std::forward<Handler>(done));
      return;
    }
    tls_write(bytes, 0, std::forward<Handler>(done));
  }
  // No more output: the peer reads end of stream (after TLS close_notify)
  // after what was written.
  void shutdown_send();
  // Closes the connection; pending operations end with operation_aborted.
  void close() {
    boost::system::error_code ec;
    socket_.close(ec);
  }

 private:
  enum class wants : unsigned char { nothing, read, write };
  bool tls_pending() const;
  std::size_t tls_read(asio::mutable_buffer into, boost::system::error_code& ec);
  // One SSL_write; `more` says what it waits for when it wrote not all.
  std::size_t tls_write_some(asio::const_buffer bytes, boost::system::error_code& ec, wants& more);

  template <class Handler>
  void tls_write(asio::const_buffer bytes, std::size_t written, Handler&& done) {
    for (;;) {
      boost::system::error_code ec;
      wants more = wants::nothing;
      written += tls_write_some(asio::buffer(bytes + written), ec, more);
      if (!ec && written < bytes.size()) continue;
      if (ec == asio::error::would_block) {
        // The session that owns this transport is kept alive by `done`.
        socket_.async_wait(
            more == wants::read ? asio::socket_base::wait_read : asio::socket_base::wait_write,
            [this, bytes, written,
             done = std::forward<Handler>(done)](boost::system::error_code wait_ec) mutable {
              if (wait_ec)
                done(wait_ec, written);
              else
                tls_write(bytes, written, std::move(done));
            });
        return;
      }
      asio::post(socket_.get_executor(), [done = std::forward<Handler>(done), ec,
                                          written]() mutable { done(ec, written); });
      return;
    }
  }

  session_socket socket_;
  ssl_st* ssl_ = nullptr;
  bool read_wants_write_ = false;  // TLS: the last read waits for the socket to take bytes
};

}  // namespace iotxmpp
