#pragma once
// The client's side of stream negotiation (PROTOCOL.md §1-2): open the
// stream, SASL ANONYMOUS, restart, bind. A state machine with no I/O, fed the
// framer's events as the server's negotiation is, so it is tested without
// sockets.

#include <optional>
#include <string>

#include <pugixml.hpp>

#include "core/base/error.hpp"
#include "core/xml/stream_framer.hpp"
#include "core/xmpp/jid.hpp"

namespace iotxmpp {

class client_negotiation {
 public:
  enum class phase { header, features, auth, restart_features, bind, bound };

  // What to do after one event.
  struct step {
    std::string send;              // bytes for the server
    bool restart = false;          // a new stream follows: reset the framer
    bool bound = false;            // bound_jid() is valid from now on
    std::optional<error> failure;  // negotiation failed: give up the connection
  };

  // `domain` goes in the header's `to`; `resource` is asked for at bind
  // (empty: the server makes one).
  client_negotiation(std::string domain, std::string resource);

  // The opening stream header; send it first and after each restart.
  std::string opening() const;

  step on_header(const stream_header& header);
  // Any top-level element before bind, except <stream:error>, which the
  // caller reads itself (remote_error.hpp).
  step on_element(pugi::xml_node element);

  phase current() const { return phase_; }
  const jid& bound_jid() const { return bound_; }

 private:
  step on_features(pugi::xml_node features);

  std::string domain_;
  std::string resource_;
  phase phase_ = phase::header;
  jid bound_;
};

}  // namespace iotxmpp
