#pragma once
// Stream negotiation up to resource binding (PROTOCOL.md §1-2): stream
// header, SASL ANONYMOUS, stream restart, bind. A state machine with no I/O:
// it is fed the framer's events and says what to send and what follows.

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

#include <pugixml.hpp>

#include "core/xml/conditions.hpp"
#include "core/xml/stream_framer.hpp"
#include "core/xmpp/jid.hpp"

namespace iotxmpp {

// What negotiation needs to know of the server: the domain it serves and the
// limits it announces (XEP-0478). The server makes one from its config.
struct stream_policy {
  std::string domain = "iot.local";
  std::size_t max_stanza_bytes = 64 * 1024;
  std::chrono::milliseconds idle_timeout{300'000};
};

class negotiation {
 public:
  enum class phase { header, auth, restart, bind, bound };

  // What to do after one event.
  struct step {
    std::string send;                       // bytes for the client
    std::optional<stream_condition> fatal;  // end the stream with this error
    std::string fatal_text;
    bool restart = false;  // expect a new stream header: reset the framer
    bool bound = false;    // bind succeeded: bound_jid() is valid
  };

  // `address` is the client's IP as text (no brackets), `port` its TCP port:
  // the anonymous JID is PORT@IP/RESOURCE.
  negotiation(const stream_policy& policy, std::string address, unsigned short port);

  step on_header(const stream_header& header);
  step on_element(pugi::xml_node element);

  phase current() const { return phase_; }
  const std::string& address() const { return address_; }
  unsigned short port() const { return port_; }
  std::chrono::steady_clock::time_point started() const { return started_; }
  bool header_sent() const { return header_sent_; }
  const jid& bound_jid() const { return bound_; }

  // The server's stream header (with a fresh id) for a stream error sent
  // before any header was; marks the header as sent.
  std::string header_for_error();

  // The <stream:features/> offered at each phase (exposed for tests).
  std::string features() const;

 private:
  step on_auth(pugi::xml_node auth);
  step on_bind(pugi::xml_node iq);

  const stream_policy& policy_;
  std::string address_;
  unsigned short port_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  phase phase_ = phase::header;
  bool header_sent_ = false;
  jid bound_;
};

}  // namespace iotxmpp
