// What a session's phase changes do to the sessions gauges
// (server_metrics.hpp): iotxmpp_sessions{state} and, while bound or
// detached, iotxmpp_bound_sessions{transport, login}. Same class as
// session.cpp, same thread rules.

#include "core/server/server_metrics.hpp"
#include "core/server/session.hpp"

namespace iotxmpp {

void session::set_phase(phase to) {
  const auto& m = server_metrics();
  auto gauge_of = [&m](phase p) -> metrics::gauge* {
    switch (p) {
      case phase::negotiating:
        return m.sessions[static_cast<std::size_t>(session_state::negotiating)];
      case phase::bound:
        return m.sessions[static_cast<std::size_t>(session_state::bound)];
      case phase::closing:
        return m.sessions[static_cast<std::size_t>(session_state::closing)];
      case phase::detached:
        return m.sessions[static_cast<std::size_t>(session_state::detached)];
      case phase::connected:
      case phase::closed:
        return nullptr;
    }
    return nullptr;
  };
  const phase from = phase_;
  phase_ = to;
  if (from == to) return;
  if (auto* g = gauge_of(from)) g->add(-1);
  if (auto* g = gauge_of(to)) g->add(1);
  auto held = [](phase p) { return p == phase::bound || p == phase::detached; };
  if (held(from) != held(to)) {
    // The same facts on the way in and out: the transport's TLS stays for
    // the session's life, and an account's JID is in the server's domain
    // (an anonymous one is PORT@IP), as session_sm.cpp's hand-over tells.
    const bool account = address_.domain() == context().config.domain;
    m.bound_sessions[transport_.secure()][account]->add(held(to) ? 1 : -1);
  }
}

}  // namespace iotxmpp
