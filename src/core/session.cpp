#include "core/session.hpp"

#include <boost/asio/redirect_error.hpp>

#include "core/log.hpp"
#include "core/stanza.hpp"
#include "core/xml_element.hpp"

namespace iotxmpp {
namespace {

// How long a closing session keeps reading (and discarding) so the client
// gets our stream error before the TCP connection goes away: closing with
// unread input would make the kernel send a reset that can eat the error.
constexpr auto linger = std::chrono::seconds(2);

// The client's address as the seed's JIDs want it: IPv4-mapped IPv6
// addresses (from a dual-stack listener) written as plain IPv4.
asio::ip::address remote_ip(const asio::ip::tcp::socket& socket) {
  boost::system::error_code ec;
  auto addr = socket.remote_endpoint(ec).address();
  if (addr.is_v6() && addr.to_v6().is_v4_mapped())
    return asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6());
  return addr;
}

unsigned short remote_port(const asio::ip::tcp::socket& socket) {
  boost::system::error_code ec;
  return socket.remote_endpoint(ec).port();
}

sys_micros wall_now() {
  return std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
}

sys_micros wall_time_of(steady::time_point t) {
  return wall_now() - std::chrono::duration_cast<std::chrono::microseconds>(steady::now() - t);
}

}  // namespace

bool negotiation_limiter::try_acquire(const std::string& address, std::size_t max) {
  std::lock_guard lock(mutex_);
  std::size_t& n = counts_[address];
  if (n >= max) return false;
  ++n;
  return true;
}

void negotiation_limiter::release(const std::string& address) {
  std::lock_guard lock(mutex_);
  auto it = counts_.find(address);
  if (it != counts_.end() && --it->second == 0) counts_.erase(it);
}

session::session(asio::ip::tcp::socket socket, shard& home, session_context& context)
    : socket_(std::move(socket)),
      home_(home),
      context_(context),
      remote_address_(remote_ip(socket_).to_string()),
      remote_port_(remote_port(socket_)),
      framer_(context.config.limits),
      negotiation_(std::make_unique<negotiation>(context.config, remote_address_, remote_port_)) {
  accepted_at_ = last_activity_ = last_touch_ = steady::now();
}

session::~session() = default;

std::string session::describe() const {
  if (bound_) return sender_.address.to_string();
  if (remote_address_.find(':') != std::string::npos)
    return "[" + remote_address_ + "]:" + std::to_string(remote_port_);
  return remote_address_ + ":" + std::to_string(remote_port_);
}

void session::start() {
  home_.sessions.insert(this);
  ++context_.live_sessions;
  boost::system::error_code ec;
  socket_.non_blocking(true, ec);
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  log::debug("connected", {{"peer", describe()}});
  if (!context_.limiter.try_acquire(remote_address_, context_.config.max_negotiating_per_address)) {
    negotiating_ = false;
    fail(stream_condition::policy_violation, "too many connections negotiating from this address");
  }
  wait_readable();
}

// Reading is a chain of callbacks rather than a coroutine: an idle session
// then costs one pending wait operation, not a coroutine frame and its
// awaitable machinery (about 900 bytes a session).
void session::wait_readable() {
  socket_.async_wait(
      asio::ip::tcp::socket::wait_read,
      [self = shared_from_this()](boost::system::error_code ec) { self->on_readable(ec); });
}

void session::on_readable(boost::system::error_code ec) {
  if (ec || finished_) {
    finish();
    return;
  }
  // Read into the shard's buffer: an idle session owns no read buffer.
  const std::size_t n = socket_.read_some(asio::buffer(home_.read_buffer), ec);
  if (ec == asio::error::would_block || ec == asio::error::try_again) {
    wait_readable();
    return;
  }
  if (ec) {  // EOF or reset
    finish();
    return;
  }
  last_activity_ = steady::now();
  std::string_view data(home_.read_buffer.data(), n);
  if (closing_ || process(data)) {  // closing: draining after our stream error
    framer_.trim();                 // between reads an idle session holds no parse state
    wait_readable();
    return;
  }
  // Back-pressure: the writer is full. Keep the unread rest (the shared
  // buffer is reused by other sessions) and read nothing more until the
  // writer has room: TCP then slows the client down, nothing is dropped.
  unread_.assign(data);
  wait_for_space();
}

void session::wait_for_space() {
  if (!wake_) wake_ = std::make_unique<asio::steady_timer>(home_.io);
  wake_->expires_at(steady::time_point::max());
  wake_->async_wait([self = shared_from_this()](boost::system::error_code) { self->on_space(); });
}

void session::on_space() {
  if (finished_) {
    finish();
    return;
  }
  if (closing_ || resume_stalled()) {
    std::string_view rest(unread_);
    if (closing_ || process(rest)) {
      std::string().swap(unread_);
      wait_readable();
      return;
    }
    unread_.erase(0, unread_.size() - rest.size());
  }
  wait_for_space();
}

bool session::process(std::string_view& data) {
  while (!data.empty() && !closing_) {
    auto outcome = framer_.feed(data);
    data.remove_prefix(outcome.consumed);
    switch (outcome.what) {
      case stream_framer::status::need_more:
        break;
      case stream_framer::status::stream_open:
        // The framer opens a stream only at the start and after SASL
        // success, both before binding; anything else is a bug of ours.
        if (!negotiation_) {
          fail(stream_condition::internal_server_error, "stream restarted after binding");
          return true;
        }
        apply(negotiation_->on_header(framer_.header()));
        break;
      case stream_framer::status::element:
        if (!on_element(framer_.element())) return false;
        break;
      case stream_framer::status::stream_close:
        finish_stream();
        return true;
      case stream_framer::status::error:
        fail(framer_.error_condition(), framer_.error_text(), framer_.too_big());
        return true;
    }
  }
  return true;
}

bool session::on_element(pugi::xml_node element) {
  if (!bound_) {
    apply(negotiation_->on_element(element));
    return true;
  }
  return carry_out(handle_stanza(element, sender_, context_.shared, wall_now()));
}

void session::apply(negotiation::step step) {
  // Registered before the bind result leaves: a client that has its JID can
  // be found (disco#items, conflict) at once.
  if (step.bound && !step.fatal) on_bound();
  if (!step.send.empty()) send(step.send);
  if (step.fatal) {
    fail(*step.fatal, step.fatal_text);
    return;
  }
  if (step.restart) framer_.reset();
}

void session::on_bound() {
  bound_ = true;
  if (negotiating_) {
    context_.limiter.release(remote_address_);
    negotiating_ = false;
  }
  sender_.address = negotiation_->bound_jid();
  negotiation_.reset();  // its work is done; a bound session keeps only its JID
  sender_.self = shared_from_this();
  if (auto older = context_.shared.bind(shared_from_this()))
    older->close(stream_condition::conflict, "replaced by a new session with the same JID");
  log::info("bound", {{"jid", describe()}});
  last_touch_ = steady::now();
  handled touch;
  touch.writes.emplace_back(device_touch{sender_.address.to_string(), {}, wall_now()});
  carry_out(std::move(touch));
}

bool session::carry_out(handled result) {
  if (result.fatal) {
    if (!result.reply.empty()) send(result.reply);
    fail(*result.fatal, result.fatal_text);
    return true;
  }
  // An answer that vouches for no write (a recommendation, disco, an error)
  // goes out at once, before its own writes are queued: a full writer slows
  // the session's reading, never its answers.
  if (!result.reply_after_commit && !result.reply.empty()) {
    send(result.reply);
    result.reply.clear();
  }
  std::size_t next = 0;
  if (!submit_from(result, next)) {
    // Only a stalled outcome is kept (on the heap): the common case costs
    // the session nothing.
    stalled_ = std::make_unique<handled>(std::move(result));
    stalled_next_ = next;
    return false;
  }
  settle(result);
  return true;
}

bool session::submit_from(handled& result, std::size_t& next) {
  auto& writes = result.writes;
  for (; next < writes.size(); ++next) {
    if (submit(writes[next])) continue;
    std::weak_ptr<session> weak = shared_from_this();
    context_.shared.writer().when_space([weak] {
      if (auto self = weak.lock())
        asio::post(self->home_.io, [self] {
          if (self->wake_) self->wake_->cancel();
        });
    });
    return false;
  }
  return true;
}

void session::settle(handled& done) {
  if (done.reply.empty()) return;
  if (!done.reply_after_commit) {
    send(done.reply);
  } else if (completed_.load() < submitted_) {
    deferred_.push_back({submitted_, std::move(done.reply), std::move(done.reply_if_lost)});
    on_committed();  // announces what it waits for
  } else {
    send_vouching(done.reply, done.reply_if_lost);
  }
}

void session::send_vouching(std::string& reply, std::string& reply_if_lost) {
  const std::uint64_t lost = lost_.load();
  if (lost > lost_told_ && !reply_if_lost.empty()) {
    lost_told_ = lost;
    send(reply_if_lost);
  } else {
    send(reply);
  }
}

bool session::resume_stalled() {
  if (!stalled_) return true;
  if (!submit_from(*stalled_, stalled_next_)) return false;
  auto done = std::move(stalled_);
  settle(*done);
  return true;
}

bool session::submit(write_item& item) {
  // A recommendation was answered already: its record may use the writer's
  // urgent reserve, so a device asking for one is not held up by others'
  // reports (its next request is read at once).
  const bool urgent = std::holds_alternative<recommendation>(item);
  bool queued = context_.shared.writer().try_submit(
      std::move(item),
      [self = shared_from_this()](const result<void>& r) {
        if (!r) {
          log::error("store write failed",
                     {{"jid", self->describe()}, {"error", r.error().message}});
          self->lost_.fetch_add(1);  // before the count: a reply waiting for it must see it
        }
        // On the writer thread, in queue order: the count of completions is
        // the sequence number of the last one. Only a completion some reply
        // waits for costs a hop to the session's thread.
        const std::uint64_t done = self->completed_.fetch_add(1) + 1;
        if (done == self->awaited_.load())
          asio::post(self->home_.io, [self] { self->on_committed(); });
      },
      urgent);
  if (queued) ++submitted_;
  return queued;
}

void session::on_committed() {
  for (;;) {
    const std::uint64_t done = completed_.load();
    while (!deferred_.empty() && deferred_.front().after <= done) {
      send_vouching(deferred_.front().reply, deferred_.front().reply_if_lost);
      deferred_.erase(deferred_.begin());
    }
    if (deferred_.empty()) {
      awaited_.store(0);
      return;
    }
    // Store, then look again (both sequentially consistent): a completion
    // that counted past this number before it was announced did not post.
    awaited_.store(deferred_.front().after);
    if (completed_.load() < deferred_.front().after) return;
  }
}

void session::send(std::string_view bytes) {
  if (finished_) return;
  outbox_.append(bytes);
  if (!closing_ && outbox_.size() > context_.config.max_outgoing_bytes) {
    // The client does not read what it asks for: drop it rather than grow.
    outbox_.clear();
    fail(stream_condition::policy_violation, "outgoing queue full: the client does not read");
    return;
  }
  if (!writing_) start_write();
}

void session::start_write() {
  if (outbox_.empty()) {
    if (closing_) {
      boost::system::error_code ec;
      socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
    }
    return;
  }
  writing_ = true;
  in_flight_.swap(outbox_);
  asio::async_write(socket_, asio::buffer(in_flight_),
                    [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                      self->writing_ = false;
                      self->in_flight_.clear();
                      // Keep idle sessions small: nothing to send, no buffers.
                      if (self->outbox_.empty()) {
                        std::string().swap(self->in_flight_);
                        std::string().swap(self->outbox_);
                      }
                      if (ec) {
                        self->finish();
                        return;
                      }
                      self->start_write();
                    });
}

void session::deliver(std::string bytes) {
  std::lock_guard lock(inbox_mutex_);
  if (inbox_overflow_) return;
  if (inbox_.size() + bytes.size() > context_.config.max_outgoing_bytes) {
    inbox_overflow_ = true;
    inbox_.clear();
    asio::post(home_.io, [self = shared_from_this()] {
      self->fail(stream_condition::policy_violation, "too slow to keep up with the live feed");
    });
    return;
  }
  inbox_.append(bytes);
  if (!inbox_posted_) {
    inbox_posted_ = true;
    asio::post(home_.io, [self = shared_from_this()] { self->drain_inbox(); });
  }
}

void session::drain_inbox() {
  std::string bytes;
  {
    std::lock_guard lock(inbox_mutex_);
    bytes.swap(inbox_);
    inbox_posted_ = false;
  }
  if (!closing_) send(bytes);
}

void session::close(stream_condition condition, std::string text) {
  asio::post(home_.io, [self = shared_from_this(), condition, text = std::move(text)] {
    self->fail(condition, text);
  });
}

void session::fail(stream_condition condition, std::string_view text, bool too_big) {
  if (closing_ || finished_) return;
  std::string out;
  if (negotiation_ && !negotiation_->header_sent()) out = negotiation_->header_for_error();
  xml_element app("stanza-too-big");
  app.set("xmlns", ns::errors);
  out += stream_error(condition, text, too_big ? &app : nullptr);
  log::info("stream error", {{"peer", describe()},
                             {"condition", std::string(to_string(condition))},
                             {"reason", std::string(text)}});
  closing_ = true;
  linger_until_ = steady::now() + linger;
  if (wake_) wake_->cancel();
  outbox_.append(out);
  if (!writing_) start_write();
}

void session::finish_stream() {
  if (closing_) return;
  log::debug("stream closed by client", {{"peer", describe()}});
  closing_ = true;
  linger_until_ = steady::now() + linger;
  outbox_.append("</stream:stream>");
  if (!writing_) start_write();
}

void session::sweep(steady::time_point now) {
  const auto& c = context_.config;
  if (closing_) {
    if (now >= linger_until_) abort();
    return;
  }
  if (!bound_ && now - accepted_at_ > c.negotiation_timeout) {
    fail(stream_condition::connection_timeout, "negotiation took too long");
  } else if (bound_ && now - last_activity_ > c.stale_after) {
    fail(stream_condition::connection_timeout, "reaped: no update within the stale window");
  } else if (now - last_activity_ > c.idle_timeout) {
    fail(stream_condition::connection_timeout, "idle for too long");
  } else if (bound_ && last_activity_ > last_touch_ && now - last_touch_ >= c.touch_every) {
    // Keep the device's last update fresh in the store so no reaper (ours,
    // another node's, or `iotxmpp reap`) removes a device that still talks.
    // Skipped while the writer is full: the next sweep tries again.
    write_item touch =
        device_touch{sender_.address.to_string(), sender_.room, wall_time_of(last_activity_)};
    if (context_.shared.writer().try_submit(std::move(touch))) last_touch_ = now;
  }
}

void session::abort() { finish(); }

namespace {

// Queues `item` now, or as soon as the writer has room: for writes no
// client waits on but that must not be lost.
void submit_eventually(store_writer& writer, std::shared_ptr<write_item> item) {
  if (writer.try_submit(std::move(*item))) return;  // not taken when refused
  writer.when_space([&writer, item] { submit_eventually(writer, item); });
}

}  // namespace

void session::finish() {
  if (finished_) return;
  finished_ = true;
  closing_ = true;
  boost::system::error_code ec;
  socket_.close(ec);
  if (wake_) wake_->cancel();
  home_.sessions.erase(this);
  --context_.live_sessions;
  if (negotiating_) {
    context_.limiter.release(remote_address_);
    negotiating_ = false;
  }
  if (bound_) {
    context_.shared.unbind(*this);
    sender_.self.reset();  // break the self-reference cycle
    log::info("disconnected", {{"jid", describe()}});
    // Marking the device offline must not be lost to a full queue either.
    submit_eventually(context_.shared.writer(), std::make_shared<write_item>(device_offline{
                                                    sender_.address.to_string(), wall_now()}));
  } else {
    log::debug("disconnected", {{"peer", describe()}});
  }
}

}  // namespace iotxmpp
