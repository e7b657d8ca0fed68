#include "core/client/client.hpp"

#include <algorithm>
#include <array>
#include <vector>

#include "core/base/asio.hpp"
#include "core/xml/stream_framer.hpp"
#include "core/xmpp/client_negotiation.hpp"
#include "core/xmpp/namespaces.hpp"
#include "core/xmpp/remote_error.hpp"
#include "core/xmpp/stanza.hpp"

namespace iotxmpp {
namespace {

using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;
constexpr auto never = steady::time_point::max();
constexpr auto longest_close_wait = std::chrono::seconds(2);

// One read buffer per thread for every client it runs: a client copies out
// only what the framer cannot finish yet, so an idle client holds none.
std::array<char, 64 * 1024>& thread_read_buffer() {
  thread_local std::array<char, 64 * 1024> buffer;
  return buffer;
}

std::string seconds_text(std::chrono::milliseconds d) {
  auto ms = d.count();
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

}  // namespace

struct client::impl : std::enable_shared_from_this<impl> {
  enum class state { idle, connecting, negotiating, bound, closing, waiting };

  struct pending_iq {
    std::string id;
    steady::time_point deadline;
    iq_handler done;
  };

  impl(asio::io_context& io, client_options o)
      : io_(io), options_(std::move(o)), socket_(io), timer_(io), framer_(options_.limits) {}

  asio::io_context& io_;
  client_options options_;
  tcp::socket socket_;
  asio::steady_timer timer_;
  std::unique_ptr<tcp::resolver> resolver_;  // only for host names, made on demand
  stream_framer framer_;
  std::optional<client_negotiation> negotiation_;
  jid address_;

  state state_ = state::idle;
  // Bumped whenever a connection ends: completions of an older one are stale.
  std::uint64_t generation_ = 0;
  std::uint64_t next_id_ = 0;

  std::string outbox_;
  std::string in_flight_;
  bool writing_ = false;

  std::vector<pending_iq> pending_;
  connect_handler connect_done_;
  steady::time_point connect_deadline_ = never;
  steady::time_point close_deadline_ = never;
  steady::time_point reconnect_at_ = never;
  steady::time_point armed_at_ = never;

  stanza_handler on_stanza_;
  closed_handler on_closed_;

  bool keep_ = false;
  std::optional<backoff> backoff_;
  std::function<void()> on_up_;
  std::function<void(const error&)> on_down_;

  // --- connecting ---------------------------------------------------------

  void connect(connect_handler done) {
    if (state_ != state::idle && state_ != state::waiting) {
      if (done)
        asio::post(io_,
                   [done] { done(fail(error_kind::internal, "already connected or connecting")); });
      return;
    }
    connect_done_ = std::move(done);
    state_ = state::connecting;
    reconnect_at_ = never;
    connect_deadline_ = steady::now() + options_.connect_timeout;
    rearm();
    auto gen = generation_;
    boost::system::error_code ec;
    auto literal = asio::ip::make_address(options_.server.host, ec);
    if (!ec) {
      std::array endpoints{tcp::endpoint(literal, options_.server.port)};
      start_connect(endpoints, gen);
      return;
    }
    if (!resolver_) resolver_ = std::make_unique<tcp::resolver>(io_);
    resolver_->async_resolve(
        options_.server.host, std::to_string(options_.server.port),
        [self = shared_from_this(), gen](boost::system::error_code ec,
                                         tcp::resolver::results_type found) {
          if (gen != self->generation_) return;
          if (ec) {
            self->connect_failed(
                error{error_kind::connect,
                      "cannot resolve " + self->options_.server.host + ": " + ec.message(),
                      {}});
            return;
          }
          self->start_connect(found, gen);
        });
  }

  template <class Endpoints>
  void start_connect(const Endpoints& endpoints, std::uint64_t gen) {
    asio::async_connect(
        socket_, endpoints,
        [self = shared_from_this(), gen](boost::system::error_code ec, const tcp::endpoint&) {
          if (gen != self->generation_) return;
          self->on_connected(ec);
        });
  }

  void on_connected(boost::system::error_code ec) {
    if (ec) {
      connect_failed(error{error_kind::connect,
                           "cannot connect to " + options_.server.to_string() + ": " + ec.message(),
                           {}});
      return;
    }
    socket_.non_blocking(true, ec);
    socket_.set_option(tcp::no_delay(true), ec);
    state_ = state::negotiating;
    framer_.reset();
    negotiation_.emplace(options_.domain, options_.resource);
    write(negotiation_->opening());
    start_read();
  }

  void on_bound() {
    address_ = negotiation_->bound_jid();
    negotiation_.reset();
    state_ = state::bound;
    connect_deadline_ = never;
    if (backoff_) backoff_->reset();
    if (auto done = std::exchange(connect_done_, nullptr)) done({});
    if (keep_ && state_ == state::bound && on_up_) on_up_();
  }

  // A connection attempt failed (before bind).
  void connect_failed(error e) {
    drop_connection();
    state_ = state::idle;
    connect_deadline_ = never;
    if (auto done = std::exchange(connect_done_, nullptr)) done(std::unexpected(e));
    after_loss(e);
  }

  // Schedules the next attempt when keep_connected is on.
  void after_loss(const error& e) {
    if (!keep_ || state_ != state::idle) return;
    if (on_down_) on_down_(e);
    if (!keep_ || state_ != state::idle) return;  // on_down may have closed or connected
    state_ = state::waiting;
    reconnect_at_ = steady::now() + backoff_->next();
    rearm();
  }

  // --- reading ------------------------------------------------------------

  void start_read() {
    socket_.async_wait(tcp::socket::wait_read, [self = shared_from_this(),
                                                gen = generation_](boost::system::error_code ec) {
      if (gen != self->generation_) return;
      self->on_readable(ec);
    });
  }

  void on_readable(boost::system::error_code ec) {
    auto gen = generation_;
    auto& buffer = thread_read_buffer();
    while (!ec) {
      std::size_t n = socket_.read_some(asio::buffer(buffer), ec);
      if (ec == asio::error::would_block || ec == asio::error::try_again) {
        start_read();
        return;
      }
      if (ec) break;
      process(std::string_view(buffer.data(), n));
      if (gen != generation_) return;  // the connection ended while processing
      if (n < buffer.size()) {
        start_read();
        return;
      }
    }
    if (ec == asio::error::eof && state_ == state::closing) {
      ended(std::nullopt);
      return;
    }
    ended(error{error_kind::connect,
                "connection to " + options_.server.to_string() + " lost: " +
                    (ec == asio::error::eof ? std::string("closed by the server") : ec.message()),
                {}});
  }

  void process(std::string_view data) {
    auto gen = generation_;
    while (!data.empty() && gen == generation_) {
      auto outcome = framer_.feed(data);
      data.remove_prefix(outcome.consumed);
      switch (outcome.what) {
        case stream_framer::status::need_more:
          break;
        case stream_framer::status::stream_open:
          if (negotiation_) apply(negotiation_->on_header(framer_.header()));
          break;
        case stream_framer::status::element:
          on_element(framer_.element());
          break;
        case stream_framer::status::stream_close:
          if (state_ == state::closing)
            ended(std::nullopt);
          else
            ended(error{error_kind::connect, "the server closed the stream", {}});
          return;
        case stream_framer::status::error:
          ended(error{error_kind::protocol,
                      "the server sent bad XML: " + std::string(framer_.error_text()),
                      std::string(to_string(framer_.error_condition()))});
          return;
      }
    }
  }

  void on_element(pugi::xml_node element) {
    std::string_view name = element.name();
    if (name == "stream:error" ||
        (local_name(element) == "error" && element.attribute("xmlns").value() == ns::stream)) {
      ended(stream_error_of(element));
      return;
    }
    if (negotiation_) {
      apply(negotiation_->on_element(element));
      return;
    }
    if (state_ != state::bound) return;  // closing: nobody listens any more
    if (local_name(element) == "iq") {
      std::string_view type = element.attribute("type").value();
      if (type == "result" || type == "error") {
        std::string_view id = element.attribute("id").value();
        auto it =
            std::find_if(pending_.begin(), pending_.end(), [&](auto& p) { return p.id == id; });
        if (it != pending_.end()) {
          iq_handler done = std::move(it->done);
          pending_.erase(it);
          if (type == "result")
            done(xml_element::from(element));
          else
            done(std::unexpected(stanza_error_of(element)));
          return;
        }
      } else if (type == "get" || type == "set") {
        // RFC 6120 §8.2.3: every get/set gets an answer; we serve nothing.
        write(error_reply(element, stanza_condition::service_unavailable, {},
                          element.attribute("from").value())
                  .str());
        return;
      }
    }
    if (on_stanza_) on_stanza_(element);
  }

  void apply(client_negotiation::step step) {
    if (step.failure) {
      connect_failed(std::move(*step.failure));
      return;
    }
    if (step.restart) framer_.reset();
    if (!step.send.empty()) write(step.send);
    if (step.bound) on_bound();
  }

  // --- writing ------------------------------------------------------------

  void write(std::string_view bytes) {
    outbox_.append(bytes);
    if (!writing_) start_write();
  }

  void start_write() {
    if (outbox_.empty()) return;
    writing_ = true;
    in_flight_.swap(outbox_);
    asio::async_write(
        socket_, asio::buffer(in_flight_),
        [self = shared_from_this(), gen = generation_](boost::system::error_code ec, std::size_t) {
          if (gen != self->generation_) return;
          self->writing_ = false;
          self->in_flight_.clear();
          // Keep idle clients small: drop a buffer a burst grew.
          if (self->in_flight_.capacity() > 4096) std::string().swap(self->in_flight_);
          if (self->outbox_.empty() && self->outbox_.capacity() > 4096)
            std::string().swap(self->outbox_);
          // A failed write ends nothing by itself: the read side
          // then sees the server's stream error (if any) and the
          // end, which say more than EPIPE does.
          if (ec) {
            boost::system::error_code ignored;
            self->socket_.shutdown(tcp::socket::shutdown_send, ignored);
            return;
          }
          self->start_write();
        });
  }

  // --- ending -------------------------------------------------------------

  // Closes the socket and makes every outstanding completion stale.
  void drop_connection() {
    ++generation_;
    boost::system::error_code ec;
    socket_.close(ec);
    if (resolver_) resolver_->cancel();
    outbox_.clear();
    in_flight_.clear();
    writing_ = false;
    negotiation_.reset();
  }

  // The connection ended: cleanly (nullopt) or for a reason.
  void ended(std::optional<error> why) {
    if (state_ == state::connecting || state_ == state::negotiating) {
      connect_failed(why ? *why : error{error_kind::connect, "the server closed the stream", {}});
      return;
    }
    if (state_ != state::bound && state_ != state::closing) return;
    drop_connection();
    state_ = state::idle;
    close_deadline_ = never;
    error lost = why ? *why : error{error_kind::connect, "connection closed", {}};
    fail_pending(lost);
    if (on_closed_) on_closed_(why);
    if (why) after_loss(*why);
  }

  void fail_pending(const error& e) {
    auto pending = std::move(pending_);
    pending_.clear();
    for (auto& p : pending) p.done(std::unexpected(e));
  }

  void close() {
    keep_ = false;
    switch (state_) {
      case state::idle:
        return;
      case state::waiting:
        state_ = state::idle;
        reconnect_at_ = never;
        return;
      case state::connecting:
      case state::negotiating:
        connect_failed(error{error_kind::connect, "connection abandoned by close()", {}});
        return;
      case state::bound:
        state_ = state::closing;
        write("</stream:stream>");
        close_deadline_ = steady::now() + std::min<std::chrono::milliseconds>(
                                              options_.connect_timeout, longest_close_wait);
        fail_pending(error{error_kind::connect, "the client closed the connection", {}});
        rearm();
        return;
      case state::closing:
        return;
    }
  }

  // --- the timer: connect, close, reconnect and IQ deadlines ---------------

  steady::time_point earliest() const {
    steady::time_point t = never;
    if (state_ == state::connecting || state_ == state::negotiating)
      t = std::min(t, connect_deadline_);
    if (state_ == state::closing) t = std::min(t, close_deadline_);
    if (state_ == state::waiting) t = std::min(t, reconnect_at_);
    for (const auto& p : pending_) t = std::min(t, p.deadline);
    return t;
  }

  void rearm() {
    auto t = earliest();
    // Re-arm only when something is due sooner: moving a timer cancels its
    // wait, which costs a completion, and most IQs finish long before.
    if (t == never || t >= armed_at_) return;
    armed_at_ = t;
    timer_.expires_at(t);
    timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (ec == asio::error::operation_aborted) return;
      self->armed_at_ = never;
      self->on_timer();
    });
  }

  void on_timer() {
    auto now = steady::now();
    if ((state_ == state::connecting || state_ == state::negotiating) && now >= connect_deadline_) {
      connect_failed(error{error_kind::timeout,
                           "no connection to " + options_.server.to_string() + " within " +
                               seconds_text(options_.connect_timeout),
                           {}});
    } else if (state_ == state::closing && now >= close_deadline_) {
      ended(std::nullopt);
    } else if (state_ == state::waiting && now >= reconnect_at_) {
      connect(nullptr);
    }
    for (std::size_t i = 0; i < pending_.size();) {
      if (pending_[i].deadline > now) {
        ++i;
        continue;
      }
      pending_iq expired = std::move(pending_[i]);
      pending_.erase(pending_.begin() + static_cast<std::ptrdiff_t>(i));
      expired.done(
          fail(error_kind::timeout, "no reply to IQ '" + expired.id + "' within the timeout"));
      i = 0;  // the handler may have changed the list
    }
    rearm();
  }
};

client::client(asio::io_context& io, client_options options)
    : impl_(std::make_shared<impl>(io, std::move(options))) {}

client::~client() {
  // Outstanding completions hold the impl; make them stale and drop handlers
  // so nothing runs after this returns.
  impl_->keep_ = false;
  impl_->on_stanza_ = nullptr;
  impl_->on_closed_ = nullptr;
  impl_->on_up_ = nullptr;
  impl_->on_down_ = nullptr;
  impl_->connect_done_ = nullptr;
  impl_->pending_.clear();
  impl_->drop_connection();
  impl_->state_ = impl::state::idle;
  impl_->timer_.cancel();
}

void client::connect(connect_handler done) { impl_->connect(std::move(done)); }

bool client::bound() const { return impl_->state_ == impl::state::bound; }

bool client::active() const {
  auto s = impl_->state_;
  return s != impl::state::idle && s != impl::state::waiting;
}

const jid& client::address() const { return impl_->address_; }

const client_options& client::options() const { return impl_->options_; }

result<void> client::send(std::string_view stanzas) {
  auto& i = *impl_;
  if (i.state_ != impl::state::bound) return fail(error_kind::connect, "not connected");
  if (i.outbox_.size() + i.in_flight_.size() + stanzas.size() > i.options_.max_queued_bytes)
    return fail(error_kind::io, "write queue full", "resource-constraint");
  i.write(stanzas);
  return {};
}

std::size_t client::queued_bytes() const {
  return impl_->outbox_.size() + impl_->in_flight_.size();
}

std::string client::next_id() { return "c" + std::to_string(++impl_->next_id_); }

void client::send_iq(xml_element request, std::chrono::milliseconds timeout, iq_handler done) {
  auto& i = *impl_;
  if (request.get("id").empty()) request.set("id", next_id());
  std::string id(request.get("id"));
  auto sent = send(request.str());
  if (!sent) {
    asio::post(i.io_, [done = std::move(done), e = sent.error()] { done(std::unexpected(e)); });
    return;
  }
  i.pending_.push_back({std::move(id), steady::now() + timeout, std::move(done)});
  i.rearm();
}

void client::on_stanza(stanza_handler handler) { impl_->on_stanza_ = std::move(handler); }

void client::on_closed(closed_handler handler) { impl_->on_closed_ = std::move(handler); }

void client::keep_connected(backoff_policy policy, std::function<void()> on_up,
                            std::function<void(const error&)> on_down) {
  auto& i = *impl_;
  i.keep_ = true;
  i.backoff_.emplace(policy);
  i.on_up_ = std::move(on_up);
  i.on_down_ = std::move(on_down);
  if (i.state_ == impl::state::bound && i.on_up_)
    i.on_up_();
  else if (i.state_ == impl::state::idle)
    i.connect(nullptr);
}

void client::close() { impl_->close(); }

}  // namespace iotxmpp
