#include "core/server/session.hpp"

#include <boost/asio/redirect_error.hpp>

#include "core/base/log.hpp"
#include "core/xmpp/stanza.hpp"
#include "core/xml/xml_element.hpp"

namespace iotxmpp {
namespace {

// How long a closing session keeps reading (and discarding) so the client
// gets our stream error before the TCP connection goes away: closing with
// unread input would make the kernel send a reset that can eat the error.
constexpr auto linger = std::chrono::seconds(2);

// The client's address (one getpeername) as the seed's JIDs want it:
// IPv4-mapped IPv6 addresses (from a dual-stack listener) written as plain
// IPv4.
asio::ip::tcp::endpoint remote_of(const session_socket& socket) {
  boost::system::error_code ec;
  auto ep = socket.remote_endpoint(ec);
  auto addr = ep.address();
  if (addr.is_v6() && addr.to_v6().is_v4_mapped())
    ep.address(asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6()));
  return ep;
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

session::session(session_socket socket, shard& home, session_context& context)
    : session(std::move(socket), remote_of(socket), home, context) {}

session::session(session_socket&& socket, const asio::ip::tcp::endpoint& remote, shard& home,
                 session_context& context)
    : socket_(std::move(socket)),
      home_(home),
      framer_(context.config.limits),
      negotiation_(std::make_unique<negotiation>(context.policy, remote.address().to_string(),
                                                 remote.port())) {
  home.context = &context;  // one per server: the same for every session of the shard
  last_activity_ = last_touch_ = negotiation_->started();
}

session::~session() = default;

std::string session::describe() const {
  if (bound_ || !negotiation_) return sender_.address.to_string();
  const std::string& address = negotiation_->address();
  const std::string port = std::to_string(negotiation_->port());
  if (address.find(':') != std::string::npos) return "[" + address + "]:" + port;
  return address + ":" + port;
}

session::busy_state& session::busy() {
  if (!busy_) busy_ = std::make_unique<busy_state>();
  return *busy_;
}

// Frees the busy state once it holds nothing: what a session that waits for
// its next stanza keeps is its small self.
void session::relax() {
  if (!busy_ || writing_ || closing_) return;
  const busy_state& b = *busy_;
  if (b.outbox.empty() && b.unread.empty() && !b.stalled && b.deferred.empty()) busy_.reset();
}

void session::start() {
  next_ = home_.first;
  if (next_) next_->prev_ = this;
  home_.first = this;
  ++home_.context->live_sessions;
  boost::system::error_code ec;
  socket_.non_blocking(true, ec);  // TCP_NODELAY comes from the listener (Linux copies it)
  log::debug("connected", {{"peer", describe()}});
  if (!home_.context->limiter.try_acquire(negotiation_->address(),
                                          home_.context->config.max_negotiating_per_address)) {
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
  const turn t = closing_ ? turn::done : process(data);  // closing: draining after our stream error
  // The shared buffer is reused by other sessions: keep what this turn left.
  if (t != turn::done) {
    busy_state& b = busy();
    b.unread.assign(data);
    b.unread_at = 0;
  }
  after(t);
}

void session::continue_unread() {
  busy_state& b = busy();
  std::string_view rest = std::string_view(b.unread).substr(b.unread_at);
  const turn t = closing_ ? turn::done : process(rest);
  // Moves past what this turn used rather than erasing it: a busy session
  // takes several turns over one read.
  b.unread_at = b.unread.size() - rest.size();
  after(t);
}

void session::after(turn t) {
  switch (t) {
    case turn::done:
      if (busy_) {
        std::string().swap(busy_->unread);
        busy_->unread_at = 0;
      }
      framer_.trim();  // between reads an idle session holds no parse state
      relax();
      wait_readable();
      return;
    case turn::yield:
      // Every other ready session, and any that becomes ready meanwhile, has
      // its turn before this one goes on.
      home_.yielded.push_back(shared_from_this());
      if (!home_.resume_posted) {
        home_.resume_posted = true;
        asio::post(home_.io,
                   [&home = home_] { asio::post(home.io, [&home] { resume_yielded(home); }); });
      }
      return;
    case turn::stalled:
      // Back-pressure: the writer is full. Read nothing more until it has
      // room: TCP then slows the client down, nothing is dropped.
      wait_for_space();
      return;
  }
}

void session::resume_yielded(shard& home) {
  home.resume_posted = false;
  // Swapped with a vector kept for it, so neither allocates once both have
  // grown to the number of busy sessions.
  auto& turns = home.resuming;
  turns.swap(home.yielded);
  for (auto& s : turns) {
    if (s->finished_)
      s->finish();
    else
      s->continue_unread();
  }
  turns.clear();
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
  if (closing_ || resume_stalled())
    continue_unread();
  else
    wait_for_space();
}

session::turn session::process(std::string_view& data) {
  std::size_t stanzas = 0;
  while (!data.empty() && !closing_) {
    if (stanzas == turn_stanzas) return turn::yield;
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
          return turn::done;
        }
        apply(negotiation_->on_header(framer_.header()));
        break;
      case stream_framer::status::element:
        ++stanzas;
        if (!on_element(framer_.element())) return turn::stalled;
        break;
      case stream_framer::status::stream_close:
        finish_stream();
        return turn::done;
      case stream_framer::status::error:
        fail(framer_.error_condition(), framer_.error_text(), framer_.too_big());
        return turn::done;
    }
  }
  return turn::done;
}

bool session::on_element(pugi::xml_node element) {
  if (!bound_) {
    apply(negotiation_->on_element(element));
    return true;
  }
  return carry_out(handle_stanza(element, sender_, home_.context->shared, wall_now()));
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
    home_.context->limiter.release(negotiation_->address());
    negotiating_ = false;
  }
  sender_.address = negotiation_->bound_jid();
  negotiation_.reset();  // its work is done; a bound session keeps only its JID
  sender_.self = shared_from_this();
  if (auto older = home_.context->shared.bind(shared_from_this()))
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
    busy_state& b = busy();
    b.stalled = std::make_unique<handled>(std::move(result));
    b.stalled_next = next;
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
    home_.context->shared.writer().when_space([weak] {
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
    busy().deferred.push_back({submitted_, std::move(done.reply), std::move(done.reply_if_lost)});
    on_committed();  // announces what it waits for
  } else {
    send_vouching(done.reply, done.reply_if_lost);
  }
}

void session::send_vouching(std::string& reply, std::string& reply_if_lost) {
  const std::uint32_t lost = lost_.load();
  if (lost != lost_told_ && !reply_if_lost.empty()) {
    lost_told_ = lost;
    send(reply_if_lost);
  } else {
    send(reply);
  }
}

bool session::resume_stalled() {
  if (!busy_ || !busy_->stalled) return true;
  if (!submit_from(*busy_->stalled, busy_->stalled_next)) return false;
  auto done = std::move(busy_->stalled);
  settle(*done);
  return true;
}

bool session::submit(write_item& item) {
  // A recommendation was answered already: its record may use the writer's
  // urgent reserve, so a device asking for one is not held up by others'
  // reports (its next request is read at once).
  const bool urgent = std::holds_alternative<recommendation>(item);
  bool queued = home_.context->shared.writer().try_submit(
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
    if (!busy_) {
      awaited_.store(0);
      return;
    }
    auto& deferred = busy_->deferred;
    const std::uint64_t done = completed_.load();
    while (!deferred.empty() && deferred.front().after <= done) {
      send_vouching(deferred.front().reply, deferred.front().reply_if_lost);
      deferred.erase(deferred.begin());
    }
    if (deferred.empty()) {
      awaited_.store(0);
      relax();
      return;
    }
    // Store, then look again (both sequentially consistent): a completion
    // that counted past this number before it was announced did not post.
    awaited_.store(deferred.front().after);
    if (completed_.load() < deferred.front().after) return;
  }
}

void session::send(std::string_view bytes) {
  if (finished_) return;
  std::string& outbox = busy().outbox;
  outbox.append(bytes);
  if (!closing_ && outbox.size() > home_.context->config.max_outgoing_bytes) {
    // The client does not read what it asks for: drop it rather than grow.
    outbox.clear();
    fail(stream_condition::policy_violation, "outgoing queue full: the client does not read");
    return;
  }
  if (!writing_) start_write();
}

void session::start_write() {
  if (!busy_ || busy_->outbox.empty()) {
    if (closing_) {
      boost::system::error_code ec;
      socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
    }
    relax();
    return;
  }
  writing_ = true;
  busy_->in_flight.swap(busy_->outbox);
  asio::async_write(socket_, asio::buffer(busy_->in_flight),
                    [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                      self->writing_ = false;
                      self->busy_->in_flight.clear();
                      if (ec) {
                        self->finish();
                        return;
                      }
                      self->start_write();
                    });
}

void session::deliver(std::string bytes) {
  std::lock_guard lock(home_.inbox_mutex);
  if (inbox_overflow_) return;
  if (!inbox_) inbox_ = std::make_unique<std::string>();
  if (inbox_->size() + bytes.size() > home_.context->config.max_outgoing_bytes) {
    inbox_overflow_ = true;
    inbox_.reset();
    asio::post(home_.io, [self = shared_from_this()] {
      self->fail(stream_condition::policy_violation, "too slow to keep up with the live feed");
    });
    return;
  }
  inbox_->append(bytes);
  if (!inbox_posted_) {
    inbox_posted_ = true;
    asio::post(home_.io, [self = shared_from_this()] { self->drain_inbox(); });
  }
}

void session::drain_inbox() {
  std::string bytes;
  {
    std::lock_guard lock(home_.inbox_mutex);
    if (inbox_) bytes.swap(*inbox_);
    inbox_.reset();
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
  busy().linger_until = steady::now() + linger;
  if (wake_) wake_->cancel();
  busy().outbox.append(out);
  if (!writing_) start_write();
}

void session::finish_stream() {
  if (closing_) return;
  log::debug("stream closed by client", {{"peer", describe()}});
  closing_ = true;
  busy().linger_until = steady::now() + linger;
  busy().outbox.append("</stream:stream>");
  if (!writing_) start_write();
}

void session::sweep(steady::time_point now) {
  const auto& c = home_.context->config;
  if (closing_) {
    if (!busy_ || now >= busy_->linger_until) abort();
    return;
  }
  if (!bound_ && negotiation_ && now - negotiation_->started() > c.negotiation_timeout) {
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
    if (home_.context->shared.writer().try_submit(std::move(touch))) last_touch_ = now;
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
  (prev_ ? prev_->next_ : home_.first) = next_;
  if (next_) next_->prev_ = prev_;
  prev_ = next_ = nullptr;
  --home_.context->live_sessions;
  if (negotiating_) {
    home_.context->limiter.release(negotiation_->address());
    negotiating_ = false;
  }
  if (bound_) {
    const bool was_registered = home_.context->shared.unbind(*this);
    sender_.self.reset();  // break the self-reference cycle
    log::info("disconnected", {{"jid", describe()}});
    // Marking the device offline must not be lost to a full queue either;
    // but a session replaced by a newer one with the same JID (conflict)
    // leaves the device online.
    if (was_registered)
      submit_eventually(
          home_.context->shared.writer(),
          std::make_shared<write_item>(device_offline{sender_.address.to_string(), wall_now()}));
  } else {
    log::debug("disconnected", {{"peer", describe()}});
  }
}

}  // namespace iotxmpp
