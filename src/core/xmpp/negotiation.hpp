#pragma once
// Stream negotiation up to resource binding (PROTOCOL.md §1-2): stream
// header, STARTTLS (RFC 6120 §5), SASL (§6, sasl_exchange.hpp), stream
// restart, bind. A state machine with no I/O: it is fed the framer's events
// and says what to send and what follows (start TLS, look up an account).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include <pugixml.hpp>

#include "core/xml/conditions.hpp"
#include "core/xml/stream_framer.hpp"
#include "core/xmpp/jid.hpp"
#include "core/xmpp/sasl_exchange.hpp"

namespace iotxmpp {

// What negotiation needs to know of the server: the domain it serves and the
// limits it announces (XEP-0478). The server makes one from its config.
struct stream_policy {
  std::string domain = "iot.local";
  std::size_t max_stanza_bytes = 64 * 1024;
  std::chrono::milliseconds idle_timeout{300'000};
  bool tls_offered = false;     // a certificate is configured: offer STARTTLS
  bool tls_required = false;    // ... and nothing but STARTTLS before TLS
  bool anonymous = true;        // offer SASL ANONYMOUS
  bool plain_in_clear = false;  // offer PLAIN without TLS (labs)
  // Failed SASL attempts on one stream before it is closed (RFC 6120
  // §6.4.5 asks for 2 to 5 retries).
  unsigned max_auth_failures = 3;
  // The longest full JID bind gives, in characters (code points): the store
  // keeps it in a 767-character column (model/limits.hpp limits::full_jid,
  // which this layer cannot see; tests/core/limits_test.cpp holds the two
  // equal). A resource that makes it longer gets bad-request.
  std::size_t max_jid_characters = 767;
};

class negotiation {
 public:
  enum class phase { header, auth, restart, bind, bound };

  // What to do after one event.
  struct step {
    std::string send;                       // bytes for the client
    std::optional<stream_condition> fatal;  // end the stream with this error
    std::string fatal_text;
    bool restart = false;               // expect a new stream header: reset the framer
    bool bound = false;                 // bind succeeded: bound_jid() is valid
    bool start_tls = false;             // once `send` is written, run TLS on the connection
    std::optional<std::string> lookup;  // fetch this account's keys, then on_keys()
    // XEP-0198 <resume previd h/> in place of bind: the caller resumes.
    std::optional<std::pair<std::string, std::uint32_t>> resume;
    std::optional<sasl_condition> auth_failure;  // a SASL <failure/> is in `send`
    std::string auth_reason;                     // ... and why, for the log
  };

  // `address` is the client's IP as text (no brackets), `port` its TCP port:
  // the anonymous JID is PORT@IP/RESOURCE.
  negotiation(const stream_policy& policy, std::string address, unsigned short port);

  step on_header(const stream_header& header);
  step on_element(pugi::xml_node element);
  // The keys a step's `lookup` asked for.
  step on_keys(const login_keys& keys);

  // The stream now runs over TLS (direct TLS from the start, or after
  // STARTTLS); `binding` is the channel's binding for SCRAM -PLUS once the
  // handshake is complete (empty type before).
  void set_secure(channel_binding binding);
  bool secure() const { return secure_; }
  bool has_binding() const { return !binding_.type.empty(); }
  // The account of a successful login; empty for anonymous.
  const std::string& account() const { return sasl_.authenticated(); }

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
  step on_auth(pugi::xml_node element);
  step after_sasl(sasl_exchange::outcome outcome);
  step on_bind(pugi::xml_node iq);
  sasl_policy current_sasl_policy() const;
  bool tls_pending() const { return policy_.tls_required && !secure_; }

  const stream_policy& policy_;
  std::string address_;
  unsigned short port_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  phase phase_ = phase::header;
  bool header_sent_ = false;
  bool secure_ = false;
  unsigned auth_failures_ = 0;
  channel_binding binding_;
  sasl_exchange sasl_;
  jid bound_;
};

}  // namespace iotxmpp
