#include "core/server/session.hpp"

#include "core/base/clock.hpp"
#include "core/base/host_port.hpp"
#include "core/base/log.hpp"
#include "core/server/server_metrics.hpp"
#include "core/xml/xml_element.hpp"
#include "core/xmpp/namespaces.hpp"
#include "core/xmpp/stanza.hpp"

namespace iotxmpp {
namespace {

// How long a closing session keeps reading (and discarding) so the client
// gets our stream error before the TCP connection goes away: closing with
// unread input would make the kernel send a reset that can eat the error.
constexpr auto linger = std::chrono::seconds(2);

// The client's address (one getpeername) as the seed's JIDs want it:
// IPv4-mapped IPv6 addresses (from a dual-stack listener) written as plain
// IPv4.
asio::ip::tcp::endpoint remote_of(const transport& transport) {
  auto ep = transport.remote();
  auto addr = ep.address();
  if (addr.is_v6() && addr.to_v6().is_v4_mapped())
    ep.address(asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6()));
  return ep;
}

// Queues `item` now, or as soon as the writer has room: for writes no
// client waits on but that must not be lost.
void submit_eventually(store_writer& writer, std::shared_ptr<write_item> item) {
  if (writer.try_submit(std::move(*item))) return;  // not taken when refused
  writer.when_space([&writer, item] { submit_eventually(writer, item); });
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

session::session(session_socket socket, shard& home, bool direct_tls)
    : session(transport(std::move(socket)), home, direct_tls) {}

session::session(session_socket socket, const asio::ip::tcp::endpoint& remote, shard& home,
                 bool direct_tls)
    : session(transport(std::move(socket)), remote, home, direct_tls) {}

// std::move is only a cast: remote_of reads the transport before the member
// is moved from it.
session::session(transport&& connection, shard& home, bool direct_tls)
    : session(std::move(connection), remote_of(connection), home, direct_tls) {}

session::session(transport&& connection, const asio::ip::tcp::endpoint& remote, shard& home,
                 bool direct_tls)
    : transport_(std::move(connection)),
      home_(home),
      framer_(home.context->config.limits),
      negotiation_(std::make_unique<negotiation>(home.context->policy, remote.address().to_string(),
                                                 remote.port())),
      direct_tls_(direct_tls),
      remote_loopback_(remote.address().is_loopback()) {
  last_activity_ = negotiation_->started();
}

session::~session() = default;

std::string session::describe() const {
  if (!negotiation_) return address_.to_string();
  return format_host_port(negotiation_->address(), negotiation_->port());
}

session::busy_state& session::busy() {
  if (!busy_) busy_ = std::make_unique<busy_state>();
  return *busy_;
}

// Frees the busy state once it holds nothing: what a session that waits for
// its next stanza keeps is its small self.
void session::relax() {
  if (!busy_ || writing_ || !reading()) return;
  const busy_state& b = *busy_;
  if (b.outbox.empty() && b.unread.empty() && !b.paused && !b.awaiting) busy_.reset();
}

void session::start() {
  next_ = home_.first;
  if (next_) next_->prev_ = this;
  home_.first = this;
  ++context().live_sessions;
  log::debug("connected", {{"peer", describe()}});
  if (!context().connection_rates.try_accept(negotiation_->address(), remote_loopback_,
                                             last_activity_, context().config.rates))
    end(ending::error(stream_condition::policy_violation,
                      "too many new connections from this address (--max-connect-rate)"));
  else if (context().limiter.try_acquire(negotiation_->address(),
                                         context().config.max_negotiating_per_address))
    set_phase(phase::negotiating);
  else
    end(ending::error(stream_condition::policy_violation,
                      "too many connections negotiating from this address"));
  if (direct_tls_) {
    // XEP-0368: the handshake is the first thing on the connection; it runs
    // within the first reads, under the negotiation timeout like the rest.
    if (!context().tls || !transport_.start_tls(*context().tls->current())) {
      log::warn("TLS could not start", {{"peer", describe()}});
      end(ending::lost());
      return;
    }
    negotiation_->set_secure({});
  }
  wait_readable();
}

// Reading is a chain of callbacks rather than a coroutine: an idle session
// then costs one pending wait operation, not a coroutine frame and its
// awaitable machinery (about 900 bytes a session).
void session::wait_readable() {
  if (phase_ == phase::detached) return;  // no transport: <resume/> comes on another
  transport_.wait_readable(
      [self = shared_from_this()](boost::system::error_code ec) { self->on_readable(ec); });
}

void session::on_readable(boost::system::error_code ec) {
  if (phase_ == phase::detached) return;
  if (ec || phase_ == phase::closed) {
    end(ending::lost());
    return;
  }
  // Read into the shard's buffer: an idle session owns no read buffer.
  const std::size_t n = transport_.read_some(asio::buffer(home_.read_buffer), ec);
  if (ec == asio::error::would_block || ec == asio::error::try_again) {
    wait_readable();
    return;
  }
  if (ec) {  // EOF or reset
    end(ending::lost());
    return;
  }
  last_activity_ = steady::now();
  if (const auto& r = context().config.rates; r.bytes_per_second > 0)
    byte_rate_.take(static_cast<double>(n), last_activity_, r.bytes_per_second,
                    r.bytes_per_second * r.burst_seconds);
  std::string_view data(home_.read_buffer.data(), n);
  // Closing: draining after our stream error.
  const turn t = reading() ? process(data) : turn::done;
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
  const turn t = reading() ? process(rest) : turn::done;
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
      read_on();
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
    case turn::paused:
      // Back-pressure or a room look-up: read nothing more until it is over.
      // TCP then slows the client down; nothing is dropped.
      wait_to_resume();
      return;
  }
}

void session::read_on() {
  const auto& r = context().config.rates;
  if (!r.session_limited() || !reading()) {
    wait_readable();
    return;
  }
  const auto pause = std::max(stanza_rate_.wait_for(r.stanzas_per_second),
                              byte_rate_.wait_for(r.bytes_per_second));
  if (pause.count() == 0) {
    throttled_since_ = {};
    wait_readable();
    return;
  }
  const auto now = steady::now();
  if (throttled_since_ == steady::time_point{}) throttled_since_ = now;
  if (now - throttled_since_ > r.grace) {
    end(ending::error(stream_condition::policy_violation,
                      "over the rate limit for too long (--max-stanza-rate, --max-byte-rate)"));
    wait_readable();  // drain while closing
    return;
  }
  // The shaper: read nothing for `pause`, so TCP slows the sender down. An
  // early wake (a stale writer notification cancels the timer) only reads
  // a little sooner.
  if (!wake_) wake_ = std::make_unique<asio::steady_timer>(home_.io);
  wake_->expires_after(pause);
  wake_->async_wait([self = shared_from_this()](boost::system::error_code) {
    if (self->phase_ != phase::closed) self->wait_readable();
  });
}

void session::resume_yielded(shard& home) {
  home.resume_posted = false;
  // Swapped with a vector kept for it, so neither allocates once both have
  // grown to the number of busy sessions.
  auto& turns = home.resuming;
  turns.swap(home.yielded);
  for (auto& s : turns)
    if (s->phase_ != phase::closed) s->continue_unread();
  turns.clear();
}

void session::wait_to_resume() {
  if (!wake_) wake_ = std::make_unique<asio::steady_timer>(home_.io);
  wake_->expires_at(steady::time_point::max());
  wake_->async_wait([self = shared_from_this()](boost::system::error_code) { self->on_resume(); });
}

void session::on_resume() {
  if (phase_ == phase::closed) return;
  if (!reading() || resume_paused())
    continue_unread();
  else
    wait_to_resume();
}

session::turn session::process(std::string_view& data) {
  std::size_t stanzas = 0;
  while (!data.empty() && reading()) {
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
          end(ending::error(stream_condition::internal_server_error,
                            "stream restarted after binding"));
          return turn::done;
        }
        note_channel_binding();
        apply(negotiation_->on_header(framer_.header()));
        break;
      case stream_framer::status::element:
        ++stanzas;
        if (const auto& r = context().config.rates; r.stanzas_per_second > 0)
          stanza_rate_.take(1, last_activity_, r.stanzas_per_second,
                            r.stanzas_per_second * r.burst_seconds);
        if (!on_element(framer_.element())) return turn::paused;
        break;
      case stream_framer::status::stream_close:
        end(ending::client_closed());
        return turn::done;
      case stream_framer::status::error:
        end(ending::error(framer_.error_condition(), framer_.error_text(), framer_.too_big()));
        return turn::done;
    }
  }
  return turn::done;
}

bool session::on_element(pugi::xml_node element) {
  if (phase_ != phase::bound) {
    note_channel_binding();
    return apply(negotiation_->on_element(element));
  }
  if (element.attribute("xmlns").value() == ns::sm) {
    on_stream_management(element);
    return true;
  }
  if (sm_) sm_->received();
  count_stanza_received(element);
  return carry_out(handle_stanza(element, sender_state{address_, row_.room(), grants_.get()},
                                 context().handlers, clock::wall_now()));
}

void session::on_bound() {
  context().limiter.release(negotiation_->address());
  address_ = negotiation_->bound_jid();
  set_phase(phase::bound);
  const std::string account = negotiation_->account();
  if (account.empty()) grants_.reset();  // anonymous: any room
  negotiation_.reset();                  // its work is done; a bound session keeps only its JID
  if (auto older = context().online.bind(shared_from_this()))
    older->close(stream_condition::conflict, "replaced by a new session with the same JID");
  log::info("bound", {{"jid", describe()}, {"account", account.empty() ? "-" : account}});
  // The account's last login: no one waits on it, but it is not dropped.
  if (!account.empty())
    submit_eventually(context().writer,
                      std::make_shared<write_item>(account_login{account, clock::wall_now()}));
  handled made;
  made.writes.push_back(row_.bound(address_.to_string(), clock::wall_now(), steady::now()));
  carry_out(std::move(made));
}

bool session::carry_out(handled result) {
  if (result.fatal) {
    if (!result.reply.empty()) send(result.reply);
    end(ending::error(*result.fatal, result.fatal_text));
    return true;
  }
  if (result.awaits_room) {
    await_room(std::move(*result.awaits_room));
    return false;
  }
  take_effects(result);
  // An answer that vouches for no write (a recommendation, disco, an error)
  // goes out at once, before its own writes are queued: a full writer slows
  // the session's reading, never its answers.
  if (!result.reply_after_commit && !result.reply.empty()) {
    send(result.reply);
    count_sent(result.reply, 1);
    count_stanza_sent(result.reply);
    result.reply.clear();
  }
  std::size_t next = 0;
  if (!submit_from(result, next)) {
    // Only a paused outcome is kept (on the heap): the common case costs
    // the session nothing.
    busy_state& b = busy();
    b.paused = std::make_unique<handled>(std::move(result));
    b.paused_next = next;
    return false;
  }
  settle(result);
  return true;
}

// What an outcome changes besides replies and writes: the feed, the room
// cache and the device's row (whose records join the writes, in order).
void session::take_effects(handled& result) {
  const auto now = steady::now();
  switch (result.subscription) {
    case handled::feed_change::none:
      break;
    case handled::feed_change::subscribe:
      feed_room_ = std::make_unique<std::string>(result.subscription_room);
      context().followers.subscribe(shared_from_this(), std::move(result.subscription_room));
      break;
    case handled::feed_change::unsubscribe:
      feed_room_.reset();
      context().followers.unsubscribe(*this);
      break;
  }
  if (result.publish)
    context().followers.publish(result.publish_room, result.publish, address_.to_string());
  if (result.presence) {
    result.writes.push_back(row_.presence(std::move(*result.presence), now));
    result.presence.reset();
  }
  if (result.report) {
    context().rooms.remember(*result.report);
    if (auto moved = row_.reported(address_.to_string(), result.report->room,
                                   result.report->received_at, now)) {
      result.writes.push_back(std::move(*moved));
      context().online.moved(*this, row_.room());
    }
    result.writes.emplace_back(std::move(*result.report));
    result.report.reset();
  }
}

// A recommendation for a room the cache does not hold: the room is read on
// the cache's thread while this session reads nothing more (its answers stay
// in order) and the shard serves everyone else.
void session::await_room(pending_recommend request) {
  busy().awaiting = true;
  std::string room = request.room;
  std::weak_ptr<session> weak = shared_from_this();
  context().rooms.load(std::move(room), [weak, request = std::move(request)](
                                            std::optional<status_report> latest) mutable {
    auto self = weak.lock();
    if (!self) return;
    asio::post(self->home_.io, [self, request = std::move(request), latest = std::move(latest)] {
      if (!self->reading()) return;  // ended meanwhile: nothing more is answered
      busy_state& b = self->busy();
      b.awaiting = false;
      b.paused = std::make_unique<handled>(
          answer_recommend(request, latest ? &*latest : nullptr,
                           sender_state{self->address_, self->row_.room(), self->grants_.get()},
                           self->context().handlers, clock::wall_now()));
      b.paused_next = 0;
      if (!b.paused->reply.empty()) {  // it vouches for no write: out at once
        self->send(b.paused->reply);
        self->count_sent(b.paused->reply, 1);
        count_stanza_sent(b.paused->reply);
        b.paused->reply.clear();
      }
      if (self->wake_) self->wake_->cancel();
    });
  });
}

bool session::submit_from(handled& result, std::size_t& next) {
  auto& writes = result.writes;
  for (; next < writes.size(); ++next) {
    if (submit(writes[next])) continue;
    std::weak_ptr<session> weak = shared_from_this();
    context().writer.when_space([weak] {
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
  count_sent(done.reply, 1);  // a stanza, now or once its writes are committed
  count_stanza_sent(done.reply);
  if (!done.reply_after_commit) {
    send(done.reply);
  } else if (commits_.in_flight()) {
    commits_.defer(std::move(done.reply), std::move(done.reply_if_lost));
    commits_.release([this](std::string& bytes) { send_vouching(bytes); });
  } else {
    send_vouching(commits_.vouch(done.reply, done.reply_if_lost));
  }
}

bool session::resume_paused() {
  if (!busy_) return true;
  if (busy_->awaiting) return false;
  if (!busy_->paused) return true;
  if (!submit_from(*busy_->paused, busy_->paused_next)) return false;
  auto done = std::move(busy_->paused);
  settle(*done);
  return true;
}

bool session::submit(write_item& item) {
  // A recommendation was answered already: its record may use the writer's
  // urgent reserve, so a device asking for one is not held up by others'
  // reports (its next request is read at once).
  const bool urgent = std::holds_alternative<recommendation>(item);
  bool queued = context().writer.try_submit(
      std::move(item),
      [self = shared_from_this()](const result<void>& r) {
        if (!r) {
          log::error("store write failed",
                     {{"jid", self->describe()}, {"error", r.error().message}});
          if (r.error().subject) self->commits_.refused_report(*r.error().subject);
        }
        // On the writer thread, in submission order (store_writer.hpp). Only
        // a completion some reply waits for costs a hop to the session.
        if (self->commits_.completed(r.has_value()))
          asio::post(self->home_.io, [self] {
            if (self->commits_.release([&](std::string& bytes) { self->send_vouching(bytes); }))
              self->relax();
            self->resume_when_committed();
          });
      },
      urgent);
  if (queued) commits_.submitted();
  return queued;
}

void session::send(std::string_view bytes) {
  // Detached: stanzas are in the resumption queue already (count_sent).
  if (phase_ == phase::closed || phase_ == phase::detached) return;
  std::string& outbox = busy().outbox;
  outbox.append(bytes);
  if (reading() && outbox.size() > context().config.max_outgoing_bytes) {
    // The client does not read what it asks for: drop it rather than grow.
    outbox.clear();
    end(ending::error(stream_condition::policy_violation,
                      "outgoing queue full: the client does not read"));
    return;
  }
  if (!writing_) start_write();
}

void session::start_write() {
  if (phase_ == phase::detached) return;
  if (!busy_ || busy_->outbox.empty()) {
    if (tls_starting_ && reading()) {
      begin_tls();
      return;
    }
    if (phase_ == phase::closing) transport_.shutdown_send();
    relax();
    return;
  }
  writing_ = true;
  busy_->in_flight.swap(busy_->outbox);
  transport_.write(asio::buffer(busy_->in_flight),
                   [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                     self->writing_ = false;
                     if (self->busy_) self->busy_->in_flight.clear();
                     if (self->phase_ == phase::detached) return;
                     if (ec) {
                       self->end(ending::lost());
                       return;
                     }
                     self->start_write();
                   });
}

void session::deliver(std::string bytes) {
  std::lock_guard lock(home_.inbox_mutex);
  if (inbox_overflow_) return;
  if (!inbox_) inbox_ = std::make_unique<std::string>();
  if (inbox_->size() + bytes.size() > context().config.max_outgoing_bytes) {
    inbox_overflow_ = true;
    inbox_.reset();
    asio::post(home_.io, [self = shared_from_this()] {
      self->end(ending::error(stream_condition::policy_violation,
                              "too slow to keep up with the live feed"));
    });
    return;
  }
  inbox_->append(bytes);
  ++inbox_stanzas_;
  if (!inbox_posted_) {
    inbox_posted_ = true;
    asio::post(home_.io, [self = shared_from_this()] { self->drain_inbox(); });
  }
}

void session::drain_inbox() {
  std::string bytes;
  std::uint32_t stanzas = 0;
  {
    std::lock_guard lock(home_.inbox_mutex);
    if (inbox_) bytes.swap(*inbox_);
    inbox_.reset();
    inbox_posted_ = false;
    stanzas = std::exchange(inbox_stanzas_, 0);
  }
  if (phase_ == phase::detached) {
    // Kept for the resumed stream, within the session's bound.
    count_sent(bytes, stanzas);
    if (sm_->queued_bytes() > context().config.max_outgoing_bytes) release();
    return;
  }
  if (!reading()) return;
  send(bytes);
  count_sent(bytes, stanzas);
}

void session::close(stream_condition condition, std::string text) {
  asio::post(home_.io, [self = shared_from_this(), condition, text = std::move(text)] {
    self->end(ending::error(condition, text));
  });
}

void session::end(const ending& why) {
  if (phase_ == phase::closed) return;
  if (phase_ == phase::detached) {
    // Its transport went when it detached; anything but that ends it.
    if (why.kind != ending::how::lost) release();
    return;
  }
  if (why.kind == ending::how::lost) {
    if (can_detach())
      detach();
    else
      release();
    return;
  }
  if (phase_ == phase::closing) return;  // our last words are said already
  std::string out;
  if (why.kind == ending::how::stream_error) {
    if (negotiation_ && !negotiation_->header_sent()) out = negotiation_->header_for_error();
    xml_element app("stanza-too-big");
    app.set("xmlns", ns::errors);
    out += stream_error(why.condition, why.text, why.app ? why.app : why.too_big ? &app : nullptr);
    count_stream_error(why.condition);
    log::info("stream error", {{"peer", describe()},
                               {"condition", std::string(to_string(why.condition))},
                               {"reason", std::string(why.text)}});
  } else {
    log::debug("stream closed by client", {{"peer", describe()}});
    out = "</stream:stream>";
  }
  if (phase_ == phase::negotiating) context().limiter.release(negotiation_->address());
  set_phase(phase::closing);
  busy().linger_until = steady::now() + linger;
  if (wake_) wake_->cancel();
  busy().outbox.append(out);
  if (!writing_) start_write();
}

void session::end_all(shard& home, const ending& why) {
  for_each(home, [&why](session& s) { s.end(why); });
}

void session::sweep(steady::time_point now) {
  const auto& c = context().config;
  if (phase_ == phase::detached) {
    if (now >= detached_until_) {
      log::info("resumption window over", {{"jid", describe()}});
      release();
    }
    return;
  }
  if (phase_ == phase::closing) {
    if (!busy_ || now >= busy_->linger_until) end(ending::lost());
    return;
  }
  const bool bound = phase_ == phase::bound;
  if (!bound && negotiation_ && now - negotiation_->started() > c.negotiation_timeout) {
    end(ending::error(stream_condition::connection_timeout, "negotiation took too long"));
  } else if (bound && now - last_activity_ > c.stale_after) {
    end(ending::error(stream_condition::connection_timeout,
                      "reaped: no update within the stale window"));
  } else if (now - last_activity_ > c.idle_timeout) {
    end(ending::error(stream_condition::connection_timeout, "idle for too long"));
  } else if (bound && row_.refresh_due(last_activity_, now, c.touch_every)) {
    // Keep the device's last update fresh in the store so no reaper (ours,
    // another node's, or `iotxmpp reap`) removes a device that still talks.
    // Skipped while the writer is full: the next sweep tries again. The
    // clocks are read only for a session that is due.
    auto touch = row_.refresh(address_.to_string(), clock::wall_time_of(last_activity_),
                              last_activity_, now, c.touch_every);
    if (touch && context().writer.try_submit(std::move(*touch))) row_.refreshed(now);
  }
}

// Closed: the one place the socket closes and the session leaves everything
// it joined.
void session::release() {
  const phase was = phase_;
  set_phase(phase::closed);
  forget_resumable();
  transport_.close();
  if (wake_) wake_->cancel();
  (prev_ ? prev_->next_ : home_.first) = next_;
  if (next_) next_->prev_ = prev_;
  prev_ = next_ = nullptr;
  if (was == phase::negotiating) context().limiter.release(negotiation_->address());
  if (negotiation_) {
    log::debug("disconnected", {{"peer", describe()}});
  } else if (was != phase::connected) {
    context().followers.unsubscribe(*this);
    const bool was_registered = context().online.unbind(*this);
    log::info("disconnected", {{"jid", describe()}});
    // Marking the device offline must not be lost to a full queue either;
    // but a session replaced by a newer one with the same JID (conflict)
    // leaves the device online.
    if (was_registered && !handed_over_)
      submit_eventually(context().writer,
                        std::make_shared<write_item>(row_.ended(address_.to_string())));
  }
  if (--context().live_sessions == 0 && context().stopping.load() && context().on_last_closed)
    context().on_last_closed();
}

}  // namespace iotxmpp
