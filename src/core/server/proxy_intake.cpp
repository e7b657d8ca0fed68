#include "core/server/proxy_intake.hpp"

#include "core/base/host_port.hpp"
#include "core/base/log.hpp"
#include "core/server/proxy_header.hpp"

namespace iotxmpp {
namespace {

using tcp = asio::ip::tcp;

std::string text_of(const tcp::endpoint& ep) {
  return format_host_port(plain_address(ep.address()).to_string(), ep.port());
}

tcp::endpoint endpoint_of(const proxy_endpoint& p) {
  asio::ip::address a;
  if (p.ipv6) {
    asio::ip::address_v6::bytes_type b;
    std::copy(p.address.begin(), p.address.end(), b.begin());
    a = asio::ip::address_v6(b);
  } else {
    asio::ip::address_v4::bytes_type b;
    std::copy_n(p.address.begin(), 4, b.begin());
    a = asio::ip::address_v4(b);
  }
  return {plain_address(a), p.port};
}

// One connection's header being read. It lives in the handlers of its two
// pending operations (the socket's wait, the deadline); each path that
// settles it ends the other, so it goes when both have returned.
class proxy_intake : public std::enable_shared_from_this<proxy_intake> {
 public:
  proxy_intake(session_socket socket, const tcp::endpoint& peer, shard& home, bool direct_tls)
      : socket_(std::move(socket)),
        peer_(peer),
        home_(home),
        direct_tls_(direct_tls),
        deadline_(home.io) {}

  void start(std::chrono::milliseconds timeout) {
    boost::system::error_code ec;
    socket_.non_blocking(true, ec);
    deadline_.expires_after(timeout);
    deadline_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (ec || self->settled_) return;
      if (auto held = proxy_warnings().allow())
        log::warn("no complete PROXY header in time: connection closed",
                  {{"source", text_of(self->peer_)},
                   {"received", std::to_string(self->parser_.bytes_seen())},
                   {"held_back", std::to_string(*held)}});
      self->give_up();
    });
    wait();
  }

 private:
  void wait() {
    socket_.async_wait(
        asio::socket_base::wait_read,
        [self = shared_from_this()](boost::system::error_code ec) { self->on_readable(ec); });
  }

  void on_readable(boost::system::error_code ec) {
    if (settled_) return;
    if (ec) {
      give_up();
      return;
    }
    // Peek, then take from the socket only what the parser says is header.
    // 536 bytes: the spec's smallest segment, which holds any v1 line and
    // any v2 header HAProxy sends without large TLVs; more simply takes
    // another read.
    char buf[536];
    const std::size_t n = socket_.receive(asio::buffer(buf), tcp::socket::message_peek, ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
      wait();
      return;
    }
    if (ec) {
      closed_early(ec);
      return;
    }
    const auto o = parser_.feed(std::string_view(buf, n));
    if (o.what == proxy_header_parser::status::malformed) {
      if (auto held = proxy_warnings().allow())
        log::warn("malformed PROXY header: connection closed",
                  {{"source", text_of(peer_)},
                   {"error", std::string(parser_.error())},
                   {"held_back", std::to_string(*held)}});
      give_up();
      return;
    }
    // The bytes are in the socket's buffer (just peeked): this takes them
    // at once, all of them.
    if (socket_.receive(asio::buffer(buf, o.consumed), 0, ec) != o.consumed || ec) {
      closed_early(ec ? ec : asio::error::connection_aborted);
      return;
    }
    if (o.what == proxy_header_parser::status::need_more) {
      wait();
      return;
    }
    settled_ = true;
    deadline_.cancel();
    begin_session();
  }

  void begin_session() {
    if (home_.context->stopping.load()) {
      give_up();
      return;
    }
    const proxy_header& h = parser_.header();
    tcp::endpoint client{plain_address(peer_.address()), peer_.port()};
    if (h.what == proxy_header::kind::proxied) {
      client = endpoint_of(h.source);
      log::debug("PROXY header", {{"proxy", text_of(peer_)},
                                  {"client", text_of(client)},
                                  {"version", std::to_string(h.version)}});
    } else {
      log::debug("PROXY header without a client address: the proxy's own connection",
                 {{"proxy", text_of(peer_)},
                  {"command", h.what == proxy_header::kind::local ? "LOCAL" : "UNKNOWN"},
                  {"version", std::to_string(h.version)}});
    }
    std::make_shared<session>(std::move(socket_), client, home_, direct_tls_)->start();
  }

  void closed_early(boost::system::error_code ec) {
    // A plain TCP health check connects and closes without a byte: not
    // worth a warning. A header cut off by the close is.
    if (parser_.bytes_seen() == 0)
      log::debug("closed before sending a PROXY header",
                 {{"source", text_of(peer_)}, {"error", ec.message()}});
    else if (auto held = proxy_warnings().allow())
      log::warn("connection closed inside its PROXY header",
                {{"source", text_of(peer_)},
                 {"received", std::to_string(parser_.bytes_seen())},
                 {"error", ec.message()},
                 {"held_back", std::to_string(*held)}});
    give_up();
  }

  void give_up() {
    settled_ = true;
    deadline_.cancel();
    boost::system::error_code ec;
    socket_.close(ec);
  }

  session_socket socket_;
  tcp::endpoint peer_;
  shard& home_;
  bool direct_tls_;
  asio::steady_timer deadline_;
  proxy_header_parser parser_;
  bool settled_ = false;
};

}  // namespace

log::limiter& proxy_warnings() {
  static log::limiter warnings(std::chrono::seconds(10), 20);
  return warnings;
}

asio::ip::address plain_address(const asio::ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped())
    return asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
  return a;
}

bool is_trusted(const std::vector<address_range>& trusted, const asio::ip::address& peer) {
  const auto a = plain_address(peer);
  std::array<std::uint8_t, 16> bytes{};
  if (a.is_v4()) {
    const auto b = a.to_v4().to_bytes();
    std::copy(b.begin(), b.end(), bytes.begin());
  } else {
    bytes = a.to_v6().to_bytes();
  }
  for (const auto& r : trusted)
    if (r.contains(a.is_v6(), bytes)) return true;
  return false;
}

void receive_proxy_header(session_socket socket, const tcp::endpoint& peer, shard& home,
                          bool direct_tls, std::chrono::milliseconds timeout) {
  std::make_shared<proxy_intake>(std::move(socket), peer, home, direct_tls)->start(timeout);
}

}  // namespace iotxmpp
