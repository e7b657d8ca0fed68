// XEP-0198 (PROTOCOL.md §3.5): the stream-management elements after bind,
// the count of stanzas sent, and resumption. A resumable session whose
// connection is lost detaches (no transport; still registered, subscribed,
// and collecting what it is sent) for config.resume_window. A new connection
// that sends <resume previd h/> in place of bind takes its state over: the
// old session hands it across shards and closes without marking the device
// offline; the new one answers <resumed/> and sends again what the client
// had not acknowledged. Same class as session.cpp, same thread rules: each
// half runs on its own session's shard and they meet only through posts.

#include "core/base/log.hpp"
#include "core/base/random_id.hpp"
#include "core/server/session.hpp"
#include "core/xmpp/namespaces.hpp"
#include "core/xmpp/stanza.hpp"

namespace iotxmpp {

void session::on_stream_management(pugi::xml_node element) {
  if (!sm_) sm_ = std::make_unique<stream_management>();
  const auto window = context().config.resume_window;
  std::string id;
  if (window.count() > 0 && !sm_->enabled() && local_name(element) == "enable") {
    id = random_hex(16);
    std::lock_guard lock(context().resume_mutex);
    context().resumable[id] = shared_from_this();
  }
  auto a = sm_->on_element(
      element, id,
      static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::seconds>(window).count()));
  if (a.fatal) {
    xml_element app("handled-count-too-high");
    app.set("xmlns", ns::sm);
    if (a.too_high_h) {
      app.set("h", std::to_string(*a.too_high_h));
      app.set("send-count", std::to_string(sm_->sent_out()));
    }
    ending why = ending::error(*a.fatal, a.fatal_text);
    if (a.too_high_h) why.app = &app;
    end(why);
    return;
  }
  if (!a.send.empty()) send(a.send);
  if (a.after_commit.empty()) return;
  // The <a/> vouches for every write queued before the <r/>: held like a
  // ping's answer until they are committed.
  std::string none;
  if (commits_.in_flight()) {
    commits_.defer(std::move(a.after_commit), std::move(none));
    commits_.release([this](std::string& bytes) { send_vouching(bytes); });
  } else {
    send_vouching(commits_.vouch(a.after_commit, none));
  }
}

void session::count_sent(std::string_view bytes, std::uint32_t stanzas) {
  if (sm_ && sm_->sent(bytes, stanzas)) send(stream_management::request());
}

void session::send_vouching(std::string_view bytes) {
  tell_refused();
  send(bytes);
}

// A report the database refused for good was counted as handled when it was
// read; with stream management the device learns of it from an error
// stanza that comes before the <a/> covering it (PROTOCOL.md §3.5). Without
// stream management the ping barrier's error answer tells it.
void session::tell_refused() {
  commits_.take_refused([this](std::string& id) {
    if (!sm_ || !sm_->enabled()) return;
    xml_element error = message(address_.to_string(), id, "error");
    error.set("from", context().config.domain);
    error.add(stanza_error(stanza_condition::internal_server_error,
                           "the database refused this report: it is not stored"));
    std::string bytes = error.str();
    count_sent(bytes, 1);
    send(bytes);
  });
}

// What moves from the detached session to the resuming one.
struct session::handover {
  jid address;
  std::shared_ptr<const std::vector<std::string>> grants;
  device_rows row;
  std::unique_ptr<stream_management> sm;
  std::unique_ptr<std::string> feed_room;
  std::string resend;
  std::uint32_t handled_in = 0;
  std::string previd;
};

bool session::can_detach() const {
  // Only a window > 0 gives a stream its resumption id (resumable()).
  return phase_ == phase::bound && sm_ && sm_->resumable() && !context().stopping.load();
}

void session::detach() {
  set_phase(phase::detached);
  detached_until_ = steady::now() + context().config.resume_window;
  transport_.close();
  if (wake_) wake_->cancel();
  if (busy_) {
    // What was waiting to be written is in the resumption queue as stanzas.
    busy_->outbox.clear();
    busy_->unread.clear();
    busy_->unread_at = 0;
  }
  log::info("detached: waiting for <resume/>", {{"jid", describe()}});
}

void session::forget_resumable() {
  if (!sm_ || !sm_->resumable()) return;
  std::lock_guard lock(context().resume_mutex);
  auto it = context().resumable.find(sm_->id());
  if (it != context().resumable.end() && it->second.lock().get() == this)
    context().resumable.erase(it);
}

void session::resume_failed(std::string_view condition) {
  if (!reading()) return;
  if (busy_) busy_->awaiting = false;
  send("<failed xmlns='" + std::string(ns::sm) + "'><" + std::string(condition) + " xmlns='" +
       std::string(ns::stanzas) + "'/></failed>");
  if (wake_) wake_->cancel();
}

// The new connection's half, on its shard: find the stream, ask its shard.
void session::resume(std::string previd, std::uint32_t h) {
  std::shared_ptr<session> old;
  {
    std::lock_guard lock(context().resume_mutex);
    auto it = context().resumable.find(previd);
    if (it != context().resumable.end()) old = it->second.lock();
  }
  if (!old || old.get() == this) {
    resume_failed("item-not-found");
    return;
  }
  busy().awaiting = true;
  std::weak_ptr<session> self = shared_from_this();
  asio::post(old->home_.io, [old, self, h, account = negotiation_->account()]() mutable {
    old->hand_over(std::move(self), h, std::move(account));
  });
}

// The old stream's half, on its shard: check, pack, close, pass it on.
void session::hand_over(std::weak_ptr<session> to, std::uint32_t h, std::string account) {
  auto fail_to = [](const std::weak_ptr<session>& who, std::string_view condition) {
    if (auto target = who.lock())
      asio::post(target->home_.io,
                 [target, c = std::string(condition)] { target->resume_failed(c); });
  };
  auto fail = [&](std::string_view condition) { fail_to(to, condition); };
  if (phase_ == phase::closed || !sm_ || !sm_->resumable()) return fail("item-not-found");
  // The same identity: an account resumes only its own streams; an
  // anonymous stream (PORT@IP) only by an anonymous login, the id being
  // its secret.
  const bool was_account = address_.domain() == context().config.domain;
  if (account.empty() ? was_account : (!was_account || address_.local() != account))
    return fail("item-not-found");
  if (phase_ == phase::bound) detach();  // the old connection is not dead yet: it is now
  if (phase_ != phase::detached) return fail("item-not-found");
  if (commits_.in_flight()) {
    // <resumed h/> vouches for every stanza handled, reports included: it
    // waits until their writes completed (through a database outage too;
    // the client waits for <resumed/> or tries again). The last completion
    // calls resume_when_committed(). A newer <resume/> of the same stream
    // takes the place of one still waiting, which fails.
    if (waiting_resume_) fail_to(waiting_resume_->to, "item-not-found");
    waiting_resume_ = std::make_unique<waiting_resume>(std::move(to), h, std::move(account));
    // An empty reply that vouches for nothing: its release is the signal.
    commits_.defer({}, {});
    if (commits_.release([this](std::string& bytes) { send_vouching(bytes); }))
      resume_when_committed();  // they completed meanwhile: no completion will call it
    return;
  }
  tell_refused();  // into the resumption queue: the new connection gets them
  auto resend = sm_->resume_from(h);
  if (!resend) return fail("unexpected-request");  // h above what was sent

  auto state = std::make_unique<handover>();
  state->address = address_;
  state->grants = grants_;
  state->row = row_;
  state->handled_in = sm_->handled_in();
  state->previd = sm_->id();
  state->resend = std::move(*resend);
  forget_resumable();
  state->sm = std::move(sm_);
  state->feed_room = std::move(feed_room_);
  handed_over_ = true;
  log::info("resumed on another connection", {{"jid", describe()}});
  release();  // unsubscribes and leaves the registry; the device stays online
  auto target = to.lock();
  if (!target) {
    log::warn("the resuming connection went away: the stream is lost",
              {{"jid", state->address.to_string()}});
    return;
  }
  asio::post(target->home_.io, [target, s = std::shared_ptr<handover>(std::move(state))]() mutable {
    target->take_over(std::make_unique<handover>(std::move(*s)));
  });
}

// Every write of this detached stream completed: the <resume/> that waited
// for them goes on (unless its connection went away: the stream then stays
// detached).
void session::resume_when_committed() {
  if (!waiting_resume_ || commits_.in_flight()) return;
  auto w = std::move(waiting_resume_);
  if (!w->to.expired()) hand_over(std::move(w->to), w->h, std::move(w->account));
}

// The new connection's half again: become the old stream.
void session::take_over(std::unique_ptr<handover> state) {
  if (!reading() || !negotiation_) return;
  context().limiter.release(negotiation_->address());
  address_ = state->address;
  set_phase(phase::bound);
  grants_ = std::move(state->grants);
  row_ = state->row;
  sm_ = std::move(state->sm);
  feed_room_ = std::move(state->feed_room);
  negotiation_.reset();
  {
    std::lock_guard lock(context().resume_mutex);
    context().resumable[sm_->id()] = shared_from_this();
  }
  if (auto older = context().online.bind(shared_from_this(), row_.room()))
    older->close(stream_condition::conflict, "replaced by a new session with the same JID");
  if (feed_room_) context().followers.subscribe(shared_from_this(), *feed_room_);
  log::info("resumed", {{"jid", describe()}});
  send("<resumed xmlns='" + std::string(ns::sm) + "' previd='" + state->previd + "' h='" +
       std::to_string(state->handled_in) + "'/>");
  send(state->resend);
  busy().awaiting = false;
  if (wake_) wake_->cancel();
}

}  // namespace iotxmpp
