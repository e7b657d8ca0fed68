#include "core/server/transport.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "core/server/tls_context.hpp"

namespace iotxmpp {
namespace {

// What an SSL call that returned `r` <= 0 means for a non-blocking caller.
boost::system::error_code tls_error(SSL* ssl, int r, bool& wants_write) {
  wants_write = false;
  switch (SSL_get_error(ssl, r)) {
    case SSL_ERROR_WANT_READ:
      return asio::error::would_block;
    case SSL_ERROR_WANT_WRITE:
      wants_write = true;
      return asio::error::would_block;
    case SSL_ERROR_ZERO_RETURN:  // the peer's close_notify
      return asio::error::eof;
    case SSL_ERROR_SYSCALL:
      ERR_clear_error();
      return asio::error::connection_reset;
    default:  // a failed handshake, a bad record: the connection is unusable
      ERR_clear_error();
      return asio::error::connection_aborted;
  }
}

}  // namespace

transport::~transport() {
  if (ssl_) SSL_free(ssl_);
}

bool transport::start_tls(const tls_context& context) {
  SSL* ssl = context.new_ssl();
  if (!ssl) return false;
  if (SSL_set_fd(ssl, socket_.native_handle()) != 1) {
    SSL_free(ssl);
    return false;
  }
  ssl_ = ssl;
  return true;
}

bool transport::handshake_done() const { return ssl_ && SSL_is_init_finished(ssl_); }

bool transport::tls_pending() const { return SSL_has_pending(ssl_) == 1; }

std::size_t transport::tls_read(asio::mutable_buffer into, boost::system::error_code& ec) {
  read_wants_write_ = false;
  std::size_t n = 0;
  ERR_clear_error();
  const int r = SSL_read_ex(ssl_, into.data(), into.size(), &n);
  if (r == 1) return n;
  ec = tls_error(ssl_, r, read_wants_write_);
  return 0;
}

std::size_t transport::tls_write_some(asio::const_buffer bytes, boost::system::error_code& ec,
                                      wants& more) {
  std::size_t n = 0;
  ERR_clear_error();
  const int r = SSL_write_ex(ssl_, bytes.data(), bytes.size(), &n);
  if (r == 1) return n;
  bool wants_write = false;
  ec = tls_error(ssl_, r, wants_write);
  more = wants_write ? wants::write : wants::read;
  return 0;
}

void transport::shutdown_send() {
  boost::system::error_code ec;
  if (ssl_ && SSL_is_init_finished(ssl_)) {
    ERR_clear_error();
    SSL_shutdown(ssl_);  // close_notify, once; a full socket buffer just loses it
    ERR_clear_error();
  }
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
}

}  // namespace iotxmpp
