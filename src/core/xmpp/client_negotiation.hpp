#pragma once
// The client's side of stream negotiation (PROTOCOL.md §1-2): open the
// stream, STARTTLS (RFC 6120 §5), SASL (RFC 6120 §6: SCRAM with or without
// channel binding, PLAIN, ANONYMOUS), restart, bind. A state machine with no
// I/O, fed the framer's events as the server's negotiation is, so it is
// tested without sockets. TLS itself is the caller's: the machine asks for
// the handshake (step::start_tls) and is told when it is done
// (tls_established). After bind, when the server offered XEP-0198 and the
// login asks for it, it enables stream management (PROTOCOL.md §3.5) before
// it reports the stream bound.
//
//   header -> features -> [starttls -> tls_handshake -> header -> features]
//          -> auth -> restart_features -> bind -> [enable_sm] -> bound
//                                          `-> resume -> bound (resumed)
//                                                   `-> (failed) bind ...

#include <cstdint>
#include <optional>
#include <string>

#include <pugixml.hpp>

#include "core/base/error.hpp"
#include "core/sasl/scram.hpp"
#include "core/xml/stream_framer.hpp"
#include "core/xmpp/jid.hpp"

namespace iotxmpp {

struct client_login {
  std::string domain = "iot.local";  // the header's `to`
  std::string resource;              // asked for at bind; empty: the server makes one
  // SASL: with a user, the strongest password mechanism both sides have
  // (SCRAM-SHA-256-PLUS, SCRAM-SHA-1-PLUS when channel binding is available,
  // SCRAM-SHA-256, SCRAM-SHA-1, PLAIN); without one, ANONYMOUS.
  std::string user;
  std::string password;
  // Refuse to negotiate without TLS: when the stream is not TLS already and
  // the server offers no STARTTLS, fail instead of going on in plain text.
  bool tls_required = false;
  // PLAIN sends the password itself; it is used only over TLS unless this is
  // set (a lab without certificates).
  bool allow_plain_over_plaintext = false;
  // After bind, send <enable resume='true'/> when the server offers
  // urn:xmpp:sm:3. A <failed/> answer is no failure: the stream goes on
  // without stream management.
  bool stream_management = true;
  // XEP-0198 §5: resume this stream in place of bind when the server offers
  // urn:xmpp:sm:3 (`previd` empty: bind). `handled` is how many of the
  // server's stanzas the client handled on it. A <failed/> answer is no
  // failure: the negotiation binds a new stream instead.
  std::string resume_previd;
  std::uint32_t resume_handled = 0;
};

// The server's <enabled/> (XEP-0198 §3).
struct sm_enabled {
  std::string id;                 // the resumption id; empty: not resumable
  bool resume = false;            // the server will let this stream be resumed
  std::uint32_t max_seconds = 0;  // how long it keeps it; 0: not said
};

class client_negotiation {
 public:
  enum class phase : std::uint8_t {
    header,            // waiting for the server's stream header
    features,          // waiting for the first features (of this stream)
    starttls,          // sent <starttls/>, waiting for <proceed/>
    tls_handshake,     // the caller is doing the TLS handshake
    auth,              // SASL exchange under way
    restart_features,  // after <success/>: waiting for the new header
    bind,              // waiting for bind features, then the bind result
    enable_sm,         // sent <enable/>, waiting for <enabled/> or <failed/>
    resume,            // sent <resume/>, waiting for <resumed/> or <failed/>
    bound,
  };

  // What to do after one event, in this order: reset the framer (restart),
  // start the TLS handshake (start_tls), send `send`.
  struct step {
    std::string send;              // bytes for the server
    bool restart = false;          // a new stream follows: reset the framer
    bool start_tls = false;        // handshake now, then call tls_established()
    bool bound = false;            // done: bound_jid(), stream_management() are valid
    std::optional<error> failure;  // negotiation failed: give up the connection
  };

  explicit client_negotiation(client_login login);
  // ANONYMOUS login to `domain`, asking for `resource`.
  client_negotiation(std::string domain, std::string resource);

  // The opening stream header; send it first and after each restart.
  std::string opening() const;

  // TLS is up: for direct TLS call it once before sending opening(); after
  // STARTTLS, once the handshake that step::start_tls asked for is done.
  // `binding` is the connection's channel binding (type empty: none, so no
  // -PLUS mechanism). Returns the step to take: the (new) stream's opening.
  step tls_established(channel_binding binding);
  bool tls() const { return tls_; }

  step on_header(const stream_header& header);
  // Any top-level element before bind, except <stream:error>, which the
  // caller reads itself (remote_error.hpp).
  step on_element(pugi::xml_node element);

  phase current() const { return phase_; }
  const jid& bound_jid() const { return bound_; }
  // The SASL mechanism chosen (empty before the features).
  const std::string& mechanism() const { return mechanism_; }
  // Stream management as the server enabled it; nullopt when it was not
  // offered, not asked for, or refused.
  const std::optional<sm_enabled>& stream_management() const { return sm_; }
  // The condition of the server's <failed/> to <enable/> (empty: none).
  const std::string& sm_refusal() const { return sm_refusal_; }
  // After <resumed h/>: the h the server gave (how many of the client's
  // stanzas it handled); the stream is the old one, bound_jid() is empty.
  // nullopt when the stream was bound afresh.
  const std::optional<std::uint32_t>& resumed() const { return resumed_; }
  // The condition of the server's <failed/> to <resume/> (empty: none).
  const std::string& resume_refusal() const { return resume_refusal_; }

 private:
  step on_features(pugi::xml_node features);
  step start_auth(pugi::xml_node features);
  step on_sasl(std::string_view name, pugi::xml_node element);
  step on_challenge(std::string_view payload);
  step on_success(std::string_view payload);
  step on_bind_result(pugi::xml_node iq);
  step on_sm(std::string_view name, pugi::xml_node element);
  step on_resume_answer(std::string_view name, pugi::xml_node element);
  step bind_request();

  client_login login_;
  phase phase_ = phase::header;
  bool tls_ = false;
  channel_binding binding_;
  std::string mechanism_;
  std::optional<scram_client> scram_;  // while a SCRAM exchange runs
  bool scram_final_sent_ = false;      // the client-final-message is out
  bool server_verified_ = false;       // the server-final-message was checked
  jid bound_;
  bool sm_offered_ = false;  // the bind features carried <sm xmlns='urn:xmpp:sm:3'/>
  std::optional<sm_enabled> sm_;
  std::string sm_refusal_;
  std::optional<std::uint32_t> resumed_;
  std::string resume_refusal_;
};

}  // namespace iotxmpp
