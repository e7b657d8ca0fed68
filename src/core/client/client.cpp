// client::impl's reading, writing and ending, and the public API; see
// client_impl.hpp for how the client's files divide the work.
#include "core/client/client.hpp"

#include <algorithm>
#include <array>

#include "core/client/client_impl.hpp"
#include "core/xmpp/namespaces.hpp"
#include "core/xmpp/remote_error.hpp"

namespace iotxmpp {
namespace {

namespace ssl = asio::ssl;

// One read buffer per thread for every client it runs: a client copies out
// only what the framer cannot finish yet, so an idle client holds none.
std::array<char, 64 * 1024>& thread_read_buffer() {
  thread_local std::array<char, 64 * 1024> buffer;
  return buffer;
}

}  // namespace

// --- reading --------------------------------------------------------------

// Reads from the connection: through TLS when it is up. A TLS read needs
// no buffer of ours beyond the shared one, but asio's ssl::stream keeps
// its own per connection: two 17 KiB record buffers in the stream, and
// two more in the BIO pair between it and OpenSSL (OpenSSL's own record
// buffers are released while idle): about 70 KiB per TLS connection that a
// plain one does not pay.
std::size_t client::impl::read_some(asio::mutable_buffer into, boost::system::error_code& ec) {
  return tls_ ? tls_->read_some(into, ec) : socket_.read_some(into, ec);
}

void client::impl::start_read() {
  socket_.async_wait(tcp::socket::wait_read,
                     [self = shared_from_this(), gen = generation_](boost::system::error_code ec) {
                       if (gen != self->generation_) return;
                       self->on_readable(ec);
                     });
}

// The socket is readable: read until it would block, a bounded amount per
// turn. Over TLS the non-blocking socket makes ssl::stream::read_some
// return would_block instead of waiting, so the shared buffer serves TLS
// too. OpenSSL may hold decrypted data the socket no longer signals, so a
// TLS connection waits for the socket only after a read said would_block.
// (A synchronous TLS read could need to write only for renegotiation,
// which the context refuses, or a TLS 1.3 key update the server asks for,
// which iotxmpp's server never does.)
void client::impl::on_readable(boost::system::error_code ec) {
  auto gen = generation_;
  auto& buffer = thread_read_buffer();
  std::size_t taken = 0;
  while (!ec) {
    std::size_t n = read_some(asio::buffer(buffer), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
      start_read();
      return;
    }
    if (ec) break;
    process(std::string_view(buffer.data(), n));
    if (gen != generation_) return;  // the connection ended while processing
    if (handshaking_) return;        // STARTTLS: the handshake reads now
    taken += n;
    if (!tls_ && n < buffer.size()) {
      start_read();
      return;
    }
    if (taken >= buffer.size()) {
      // Let the other clients of this thread have their turn.
      asio::post(io_, [self = shared_from_this(), gen] {
        if (gen == self->generation_) self->on_readable({});
      });
      return;
    }
  }
  bool end = ec == asio::error::eof || ec == ssl::error::stream_truncated;
  if (end && state_ == state::closing) {
    ended(std::nullopt);
    return;
  }
  ended(error{error_kind::connect,
              "connection to " + options_.server.to_string() +
                  " lost: " + (end ? std::string("closed by the server") : ec.message()),
              {}});
}

void client::impl::process(std::string_view data) {
  auto gen = generation_;
  while (!data.empty() && gen == generation_) {
    if (handshaking_) {
      // After <proceed/> the server speaks TLS, and only after our
      // ClientHello: anything read with it is not TLS.
      connect_failed(error{error_kind::protocol, "the server sent data after <proceed/>", {}});
      return;
    }
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

void client::impl::on_element(pugi::xml_node element) {
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
  if (element.attribute("xmlns").value() == ns::sm) {
    on_sm(element);
    return;
  }
  // Counted as read: the server's <r/> is answered with what we read
  // before it, and on_stanza handles a stanza during its call.
  if (sm_) ++sm_->handled;
  if (local_name(element) == "iq") {
    std::string_view type = element.attribute("type").value();
    if (type == "result" || type == "error") {
      std::string_view id = element.attribute("id").value();
      auto it = std::find_if(pending_.begin(), pending_.end(), [&](auto& p) { return p.id == id; });
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
      if (sm_) ++sm_->sent;
      return;
    }
  }
  if (on_stanza_) on_stanza_(element);
}

// --- writing --------------------------------------------------------------

void client::impl::write(std::string_view bytes) {
  outbox_.append(bytes);
  if (!writing_) start_write();
}

void client::impl::start_write() {
  if (outbox_.empty() || writing_ || handshaking_) return;
  writing_ = true;
  in_flight_.swap(outbox_);
  auto on_written = [self = shared_from_this(), gen = generation_, stream = tls_](
                        boost::system::error_code ec, std::size_t) {
    if (gen != self->generation_) return;
    self->writing_ = false;
    self->in_flight_.clear();
    // Keep idle clients small: drop a buffer a burst grew.
    if (self->in_flight_.capacity() > 4096) std::string().swap(self->in_flight_);
    if (self->outbox_.empty() && self->outbox_.capacity() > 4096) std::string().swap(self->outbox_);
    // A failed write ends nothing by itself: the read side
    // then sees the server's stream error (if any) and the
    // end, which say more than EPIPE does.
    if (ec) {
      boost::system::error_code ignored;
      self->socket_.shutdown(tcp::socket::shutdown_send, ignored);
      return;
    }
    self->start_write();
  };
  if (tls_)
    asio::async_write(*tls_, asio::buffer(in_flight_), std::move(on_written));
  else
    asio::async_write(socket_, asio::buffer(in_flight_), std::move(on_written));
}

// --- ending ---------------------------------------------------------------

// Closes the socket and makes every outstanding completion stale.
void client::impl::drop_connection() {
  ++generation_;
  boost::system::error_code ec;
  socket_.close(ec);
  if (resolver_) resolver_->cancel();
  outbox_.clear();
  in_flight_.clear();
  writing_ = false;
  negotiation_.reset();
  // Pending TLS operations keep the stream until they complete (stale).
  // No close_notify: the XMPP stream was closed (or is being given up),
  // and a peer that waits for one gets the TCP FIN instead.
  tls_.reset();
  handshaking_ = false;
}

// The connection ended: cleanly (nullopt) or for a reason.
void client::impl::ended(std::optional<error> why) {
  if (state_ == state::connecting || state_ == state::negotiating) {
    connect_failed(why ? *why : error{error_kind::connect, "the server closed the stream", {}});
    return;
  }
  if (state_ != state::bound && state_ != state::closing) return;
  if (sm_ && sm_->ending) why = std::move(sm_->ending);
  if (why && sm_ && sm_->enabled.resume && state_ == state::bound &&
      why->kind == error_kind::connect) {
    // Lost, not ended by either side: the server keeps the stream for
    // its window (XEP-0198 §5), so the next connection asks for it.
    auto r = std::make_unique<resumable_stream>();
    r->enabled = sm_->enabled;
    r->address = address_;
    r->handled = sm_->handled;
    r->sent = sm_->sent;
    const auto window =
        std::chrono::seconds(sm_->enabled.max_seconds ? sm_->enabled.max_seconds : 60);
    r->until = steady::now() + window;
    resumable_ = std::move(r);
  }
  drop_connection();
  state_ = state::idle;
  close_deadline_ = never;
  error lost = why ? *why : error{error_kind::connect, "connection closed", {}};
  fail_pending(lost);
  sm_.reset();
  if (on_closed_) on_closed_(why);
  if (why) after_loss(*why);
}

void client::impl::close() {
  keep_ = false;
  resumable_.reset();  // a closed stream is not resumed
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
  impl_->sm_.reset();
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
  if (i.sm_) i.sm_->sent += impl::count_stanzas(stanzas);
  return {};
}

std::size_t client::queued_bytes() const {
  return impl_->outbox_.size() + impl_->in_flight_.size();
}

void client::on_stanza(stanza_handler handler) { impl_->on_stanza_ = std::move(handler); }

void client::on_closed(closed_handler handler) { impl_->on_closed_ = std::move(handler); }

void client::close() { impl_->close(); }

}  // namespace iotxmpp
