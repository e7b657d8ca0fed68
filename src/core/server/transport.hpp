#pragma once
// The byte stream under a session: today plain TCP. Everything the session
// does to its connection goes through these six calls, so a TLS stream
// (STARTTLS, XEP-0368 direct TLS) replaces this class and nothing else of
// the session. No virtual calls and no extra state: an idle session pays
// for its socket and nothing more.
// Included by session.hpp only (it pulls in asio).

#include <cstddef>
#include <utility>

#include "core/base/asio.hpp"

namespace iotxmpp {

// Bound to its shard's io_context type rather than a type-erased executor:
// the socket and every pending operation on it are smaller (an idle session
// holds one of each).
using session_socket = asio::basic_stream_socket<asio::ip::tcp, asio::io_context::executor_type>;

class tcp_transport {
 public:
  explicit tcp_transport(session_socket socket) : socket_(std::move(socket)) {
    boost::system::error_code ec;
    socket_.non_blocking(true, ec);  // TCP_NODELAY comes from the listener (Linux copies it)
  }

  // The peer's address; an unspecified endpoint when the socket is gone.
  asio::ip::tcp::endpoint remote() const {
    boost::system::error_code ec;
    return socket_.remote_endpoint(ec);
  }
  // Calls `done(error_code)` once bytes can be read without blocking.
  template <class Handler>
  void wait_readable(Handler&& done) {
    socket_.async_wait(asio::ip::tcp::socket::wait_read, std::forward<Handler>(done));
  }
  // Reads what is there now, without blocking (would_block when nothing).
  std::size_t read_some(asio::mutable_buffer into, boost::system::error_code& ec) {
    return socket_.read_some(into, ec);
  }
  // Writes all of `bytes`, then calls `done(error_code, std::size_t)`. One
  // write at a time.
  template <class Handler>
  void write(asio::const_buffer bytes, Handler&& done) {
    asio::async_write(socket_, bytes, std::forward<Handler>(done));
  }
  // No more output: the peer reads end of stream after what was written.
  void shutdown_send() {
    boost::system::error_code ec;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  }
  // Closes the connection; pending operations end with operation_aborted.
  void close() {
    boost::system::error_code ec;
    socket_.close(ec);
  }

 private:
  session_socket socket_;
};

}  // namespace iotxmpp
