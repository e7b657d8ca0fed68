#include "core/server/metrics_http.hpp"

#include <thread>

#include "core/base/asio.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "core/base/host_port.hpp"
#include "core/base/log.hpp"
#include "core/base/metrics.hpp"
#include "core/base/thread_name.hpp"
#include "core/base/version.hpp"

namespace iotxmpp {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr std::size_t max_connections = 32;
constexpr std::uint32_t max_header_bytes = 8 * 1024;
constexpr std::uint64_t max_body_bytes = 4 * 1024;
constexpr auto request_timeout = std::chrono::seconds(10);
// After an error answer the rest of the request is read and dropped for at
// most this long (and this much), so that the kernel does not reset the
// connection over unread bytes before the client has read the answer.
constexpr auto linger = std::chrono::seconds(2);
constexpr std::size_t linger_bytes = 64 * 1024;

using request = http::request<http::string_body>;
using response = http::response<http::string_body>;

response text_response(http::status status, unsigned http_version, std::string body) {
  response res{status, http_version};
  res.set(http::field::server, "iotxmpp/" + std::string(version()));
  res.set(http::field::content_type, "text/plain; charset=utf-8");
  res.body() = std::move(body);
  return res;
}

// The answer to a well-formed request.
response answer(const request& req, const std::function<std::string()>& render) {
  std::string_view target(req.target().data(), req.target().size());
  target = target.substr(0, target.find('?'));
  response res;
  if (target != "/metrics") {
    res = text_response(http::status::not_found, req.version(),
                        "not found: this server serves /metrics only\n");
  } else if (req.method() != http::verb::get) {
    res = text_response(http::status::method_not_allowed, req.version(),
                        "method not allowed: GET /metrics only\n");
    res.set(http::field::allow, "GET");
  } else {
    res = text_response(http::status::ok, req.version(), render());
    res.set(http::field::content_type,
            beast::string_view(metrics::content_type.data(), metrics::content_type.size()));
  }
  if (req.method() == http::verb::head) res.body().clear();  // HEAD: no body
  res.keep_alive(req.keep_alive());
  res.prepare_payload();
  return res;
}

}  // namespace

struct metrics_http::impl {
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  std::function<std::string()> render;
  std::pair<std::string, unsigned short> bound;
  std::thread thread;
  std::size_t live = 0;  // connections open; io thread only
  bool stopped = false;

  asio::awaitable<void> accept_loop();
  asio::awaitable<void> serve(tcp::socket socket);
};

asio::awaitable<void> metrics_http::impl::accept_loop() {
  for (;;) {
    boost::system::error_code ec;
    tcp::socket socket(io);
    co_await acceptor.async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      log::warn("metrics: accept failed", {{"error", ec.message()}});
      asio::steady_timer pause(io, std::chrono::milliseconds(100));
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    if (live >= max_connections) {
      socket.close(ec);  // a scraper needs one or two; this is a flood
      continue;
    }
    ++live;
    asio::co_spawn(io, serve(std::move(socket)), [this](std::exception_ptr) { --live; });
  }
}

// One connection: requests in turn (keep-alive), each read with a deadline
// and within the size limits.
asio::awaitable<void> metrics_http::impl::serve(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  // Bounded: a header past the parser's limit fails before this fills.
  beast::flat_buffer buffer(max_header_bytes + max_body_bytes);
  boost::system::error_code ec;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(max_header_bytes);
    parser.body_limit(max_body_bytes);
    stream.expires_after(request_timeout);
    co_await http::async_read(stream, buffer, parser,
                              asio::redirect_error(asio::use_awaitable, ec));
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
        ec == asio::error::eof)
      break;
    if (ec) {
      // A malformed or oversized request: say so, then close.
      http::status status = ec == http::error::header_limit ? http::status{431}
                            : ec == http::error::body_limit ? http::status::payload_too_large
                                                            : http::status::bad_request;
      response res = text_response(status, 11, "bad request: " + ec.message() + "\n");
      res.keep_alive(false);
      res.prepare_payload();
      stream.expires_after(linger);
      co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
      stream.socket().shutdown(tcp::socket::shutdown_send, ec);
      std::array<char, 4096> sink;
      for (std::size_t drained = 0; drained < linger_bytes;) {
        std::size_t n = co_await stream.async_read_some(
            asio::buffer(sink), asio::redirect_error(asio::use_awaitable, ec));
        if (ec) break;
        drained += n;
      }
      break;
    }
    response res = answer(parser.get(), render);
    stream.expires_after(request_timeout);
    co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
    if (ec || !res.keep_alive()) break;
  }
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  stream.socket().close(ec);
}

metrics_http::metrics_http(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

metrics_http::~metrics_http() { stop(); }

result<std::unique_ptr<metrics_http>> metrics_http::start(const std::string& address,
                                                          std::function<std::string()> render) {
  auto parsed = parse_host_port(address, {.default_port = std::nullopt, .allow_port_zero = true});
  if (!parsed)
    return fail(error_kind::usage, "--metrics " + address + ": " + parsed.error().message);
  auto p = std::make_unique<impl>();
  p->render = std::move(render);
  boost::system::error_code ec;
  tcp::endpoint ep;
  if (auto literal = asio::ip::make_address(parsed->host, ec); !ec) {
    ep = {literal, parsed->port};
  } else {
    tcp::resolver resolver(p->io);
    auto found =
        resolver.resolve(parsed->host, std::to_string(parsed->port), tcp::resolver::passive, ec);
    if (ec || found.empty())
      return fail(error_kind::usage,
                  "--metrics " + address + ": " + (ec ? ec.message() : std::string("no address")));
    ep = found.begin()->endpoint();
  }
  auto& a = p->acceptor;
  a.open(ep.protocol(), ec);
  if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(ep, ec);
  if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return fail(error_kind::io, "cannot listen on " +
                                    format_host_port(ep.address().to_string(), ep.port()) +
                                    " (--metrics): " + ec.message());
  auto local = a.local_endpoint(ec);
  p->bound = {local.address().to_string(), local.port()};
  asio::co_spawn(p->io, p->accept_loop(), asio::detached);
  p->thread = std::thread([raw = p.get()] {
    name_this_thread("iotxmpp-metrics");
    raw->io.run();
  });
  log::info("metrics listening", {{"address", p->bound.first},
                                  {"port", std::to_string(p->bound.second)},
                                  {"path", "/metrics"}});
  return std::unique_ptr<metrics_http>(new metrics_http(std::move(p)));
}

std::pair<std::string, unsigned short> metrics_http::endpoint() const { return impl_->bound; }

void metrics_http::stop() {
  if (!impl_ || impl_->stopped) return;
  impl_->stopped = true;
  // Stopping the io_context abandons every connection's coroutine; its
  // destruction (with impl) closes their sockets.
  impl_->io.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace iotxmpp
