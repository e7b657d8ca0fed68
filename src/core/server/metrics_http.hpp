#pragma once
// `serve --metrics`: a small HTTP/1.1 server (Boost.Beast) that answers
// GET /metrics with the metrics registry's text (metrics.hpp), for
// Prometheus. Anything else: 404 for another path, 405 for another method
// on /metrics, 400/413/431 for a malformed or too large request.
//
// One thread of its own with its own io_context, so a scrape never waits
// behind the XMPP shards nor they behind it; each connection is a coroutine
// on it (no thread per connection), at most 32 at once (more are closed at
// accept), each request's header at most 8 KiB and its body at most 4 KiB,
// and a connection that sends no complete request within 10 s is closed.
// Asio and Beast stay behind the pimpl.

#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "core/base/error.hpp"

namespace iotxmpp {

class metrics_http {
 public:
  // Binds `address` (HOST:PORT or [IPV6]:PORT; port 0: any free port) and
  // serves on a new thread; `render` makes the body of each GET /metrics, on
  // that thread. Fails with usage (a bad address) or io (cannot listen).
  static result<std::unique_ptr<metrics_http>> start(const std::string& address,
                                                     std::function<std::string()> render);
  ~metrics_http();  // stop()
  metrics_http(const metrics_http&) = delete;
  metrics_http& operator=(const metrics_http&) = delete;

  // The bound address and port (the real port when 0 was asked).
  std::pair<std::string, unsigned short> endpoint() const;
  // Closes the listener and every connection and joins the thread.
  // Idempotent; not from `render`.
  void stop();

 private:
  struct impl;
  explicit metrics_http(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace iotxmpp
