// The session's negotiation: carrying out what negotiation.hpp says to do
// (send, start TLS, look up an account, bind), apart from session.cpp's
// I/O, framing and stanza handling. Same class, same thread rules.

#include "core/base/log.hpp"
#include "core/sasl/channel_binding.hpp"
#include "core/server/session.hpp"

namespace iotxmpp {

bool session::apply(negotiation::step step) {
  // Registered before the bind result leaves: a client that has its JID can
  // be found (disco#items, conflict) at once.
  if (step.bound && !step.fatal) on_bound();
  if (!step.send.empty()) send(step.send);
  if (step.auth_failure)
    log::info("authentication failed", {{"peer", describe()},
                                        {"condition", std::string(to_string(*step.auth_failure))},
                                        {"reason", step.auth_reason}});
  if (step.fatal) {
    end(ending::error(*step.fatal, step.fatal_text));
    return true;
  }
  if (step.restart) framer_.reset();
  if (step.start_tls) {
    // Nothing more is read until <proceed/> is written and TLS is on:
    // start_write calls begin_tls once the outbox is empty.
    tls_starting_ = true;
    busy().awaiting = true;
    return false;
  }
  if (step.lookup) {
    look_up(std::move(*step.lookup));
    return false;
  }
  if (step.resume) {
    resume(std::move(step.resume->first), step.resume->second);
    return !busy_ || !busy_->awaiting;
  }
  return true;
}

// An account's keys are read on the directory's thread while this session
// reads nothing more; the answer comes back to the session's own thread.
void session::look_up(std::string name) {
  busy().awaiting = true;
  std::weak_ptr<session> weak = shared_from_this();
  auto answered = [weak](account_directory::found found) {
    auto self = weak.lock();
    if (!self) return;
    asio::post(self->home_.io, [self, found = std::move(found)]() mutable {
      if (!self->reading() || !self->negotiation_) return;
      self->busy().awaiting = false;
      self->grants_ = std::make_shared<const std::vector<std::string>>(std::move(found.rooms));
      self->apply(self->negotiation_->on_keys(found.keys));
      if (self->wake_) self->wake_->cancel();
    });
  };
  if (context().accounts) {
    context().accounts->lookup(std::move(name), std::move(answered));
  } else {
    answered(account_directory::unavailable());
  }
}

bool session::begin_tls() {
  tls_starting_ = false;
  busy_state& b = busy();
  b.awaiting = false;
  if (!reading()) return false;
  // RFC 6120 §5.4.3.3: after <starttls/> the client sends nothing until it
  // has <proceed/>; bytes read in the clear after it cannot be TLS.
  // Whitespace is a keepalive (some clients end <starttls/> with a newline).
  const std::string_view left = std::string_view(b.unread).substr(b.unread_at);
  if (left.find_first_not_of(" \t\r\n") != std::string_view::npos) {
    end(ending::error(stream_condition::policy_violation, "data after <starttls/> in the clear"));
    return false;
  }
  b.unread.clear();
  b.unread_at = 0;
  if (!context().tls || !transport_.start_tls(*context().tls->current())) {
    end(ending::error(stream_condition::internal_server_error, "TLS could not start"));
    return false;
  }
  negotiation_->set_secure({});
  if (wake_) wake_->cancel();
  return true;
}

// Once the TLS handshake is over, the channel binding for SCRAM -PLUS.
void session::note_channel_binding() {
  if (negotiation_ && transport_.secure() && !negotiation_->has_binding() &&
      transport_.handshake_done())
    negotiation_->set_secure(tls_channel_binding(transport_.ssl(), true));
}

}  // namespace iotxmpp
