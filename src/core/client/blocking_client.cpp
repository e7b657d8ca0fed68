#include "core/client/blocking_client.hpp"

#include <optional>

#include "core/base/asio.hpp"
#include "core/client/queries.hpp"

namespace iotxmpp {

struct blocking_client::impl {
  explicit impl(client_options options) : c(io, std::move(options)) {}

  asio::io_context io{1};
  client c;
  std::optional<asio::signal_set> signals;
  bool interrupted = false;
};

namespace {

error interrupted_error() { return error{error_kind::io, "interrupted", {}}; }

}  // namespace

blocking_client::blocking_client(client_options options)
    : impl_(std::make_unique<impl>(std::move(options))) {}

blocking_client::~blocking_client() = default;

client& blocking_client::async() { return impl_->c; }

void blocking_client::watch_interrupts() {
  if (impl_->signals) return;
  impl_->signals.emplace(impl_->io, SIGINT, SIGTERM);
  impl_->signals->async_wait([i = impl_.get()](boost::system::error_code ec, int) {
    if (!ec) i->interrupted = true;
  });
}

blocking_client::stop_reason blocking_client::run_until(const std::function<bool()>& done,
                                                        std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto& io = impl_->io;
  io.restart();
  while (true) {
    if (impl_->interrupted) return stop_reason::interrupted;
    if (done()) return stop_reason::done;
    if (std::chrono::steady_clock::now() >= deadline) return stop_reason::timeout;
    if (io.run_one_until(deadline) == 0) {
      if (std::chrono::steady_clock::now() >= deadline) return stop_reason::timeout;
      if (io.stopped()) {
        // Out of work: run_one_until returns at once from now on.
        if (impl_->interrupted) return stop_reason::interrupted;
        return done() ? stop_reason::done : stop_reason::idle;
      }
    }
  }
}

void blocking_client::poll() {
  impl_->io.restart();
  impl_->io.poll();
}

result<void> blocking_client::connect() {
  std::optional<result<void>> outcome;
  impl_->c.connect([&](const result<void>& r) { outcome = r; });
  // The client enforces connect_timeout itself; the slack only guards
  // against a bug leaving us waiting forever.
  auto limit = impl_->c.options().connect_timeout + std::chrono::seconds(5);
  switch (run_until([&] { return outcome.has_value(); }, limit)) {
    case stop_reason::done:
      return *outcome;
    case stop_reason::interrupted:
      impl_->c.close();
      return std::unexpected(interrupted_error());
    default:
      impl_->c.close();
      return fail(error_kind::timeout, "no connection within the timeout");
  }
}

result<void> blocking_client::send(std::string_view stanzas) {
  auto& c = impl_->c;
  std::size_t limit = c.options().max_queued_bytes;
  if (stanzas.size() <= limit && c.queued_bytes() + stanzas.size() > limit) {
    // Let the queue drain first: the client never blocks, so we wait here.
    auto reason =
        run_until([&] { return !c.bound() || c.queued_bytes() + stanzas.size() <= limit; },
                  std::chrono::hours(24 * 365));
    if (reason == stop_reason::interrupted) return std::unexpected(interrupted_error());
  }
  return c.send(stanzas);
}

result<xml_element> blocking_client::iq(xml_element request, std::chrono::milliseconds timeout) {
  std::optional<result<xml_element>> outcome;
  impl_->c.send_iq(std::move(request), timeout,
                   [&](result<xml_element> r) { outcome = std::move(r); });
  auto reason = run_until([&] { return outcome.has_value(); }, timeout + std::chrono::seconds(5));
  if (reason == stop_reason::done) return std::move(*outcome);
  if (reason == stop_reason::interrupted) {
    impl_->c.close();
    run_until([&] { return outcome.has_value(); }, std::chrono::seconds(1));
    return std::unexpected(interrupted_error());
  }
  return fail(error_kind::timeout, "no reply within the timeout");
}

result<void> blocking_client::sync(std::chrono::milliseconds timeout) {
  auto& c = impl_->c;
  if (c.stream_management()) {
    std::optional<result<void>> outcome;
    c.when_acked(timeout, [&](result<void> r) { outcome = std::move(r); });
    auto reason = run_until([&] { return outcome.has_value(); }, timeout + std::chrono::seconds(5));
    if (reason == stop_reason::done) return *outcome;
    if (reason == stop_reason::interrupted) {
      c.close();
      run_until([&] { return outcome.has_value(); }, std::chrono::seconds(1));
      return std::unexpected(interrupted_error());
    }
    return fail(error_kind::timeout, "no acknowledgement within the timeout");
  }
  auto reply = iq(ping_request(c.options().domain, c.next_id()), timeout);
  if (!reply) return std::unexpected(reply.error());
  return {};
}

void blocking_client::close() {
  auto& c = impl_->c;
  c.close();
  run_until([&] { return !c.active(); }, std::chrono::seconds(3));
}

}  // namespace iotxmpp
