#pragma once
// SCRAM (RFC 5802, RFC 7677) as messages in, messages out: no I/O, no
// store. The server side verifies a client with stored keys; the client side
// proves a password. Both do channel binding for the -PLUS mechanisms
// (RFC 5929 tls-server-end-point, RFC 9266 tls-exporter): the caller gets the
// binding data from its TLS connection and passes it in.
//
// Messages are the decoded SASL payloads (not base64).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "core/sasl/sasl_condition.hpp"
#include "core/sasl/scram_credentials.hpp"

namespace iotxmpp {

// "SCRAM-SHA-1", "SCRAM-SHA-256", with "-PLUS" when `plus`.
std::string scram_mechanism(scram_hash h, bool plus);
// The hash and -PLUS flag of a mechanism name; nullopt if not SCRAM.
struct scram_mechanism_parts {
  scram_hash hash;
  bool plus;
};
std::optional<scram_mechanism_parts> parse_scram_mechanism(std::string_view name);

// The channel this exchange runs over.
struct channel_binding {
  std::string type;  // "tls-exporter", "tls-server-end-point"; empty: no TLS binding available
  std::string data;  // the binding bytes for `type`
};

struct sasl_failure {
  sasl_condition condition = sasl_condition::not_authorized;
  std::string text;  // for the log and <text/>; never holds a secret
};

class scram_server {
 public:
  // `plus`: the client chose the -PLUS mechanism (`binding` must then have a
  // type). `plus_offered`: the server offered -PLUS on this stream; a client
  // that says "y" (it supports binding but thinks the server does not) is
  // then refused as a downgrade (RFC 5802 §6).
  scram_server(scram_hash h, bool plus, bool plus_offered, channel_binding binding);

  // The client-first-message. Gives the username to look up (saslname
  // decoded: "=2C" -> ',', "=3D" -> '='), or a failure: malformed-request
  // for a message that does not parse (missing or repeated attributes, an
  // empty or non-printable nonce, a bad saslname escape, an 'm' extension),
  // not-authorized for a channel-binding flag that does not fit (p= without
  // -PLUS, a binding type other than ours, "y" while -PLUS was offered),
  // invalid-authzid for an authzid that differs from the username.
  std::variant<std::string, sasl_failure> on_client_first(std::string_view message);

  // The server-first-message (r=client+server nonce, s=salt, i=count) for
  // the user's keys. For an unknown user pass nullopt: the exchange goes on
  // with a salt made from the name and a per-process secret (the same salt
  // for the same name, as a real account would have) and fails at the proof
  // like a wrong password, so names cannot be probed. Keys of another hash
  // are treated as an unknown user. The server nonce is fresh; `nonce`
  // replaces it only for tests (known-answer vectors). Called other than
  // once right after a successful on_client_first, it returns "" and the
  // exchange fails.
  std::string server_first(const std::optional<scram_keys>& keys,
                           std::optional<std::string> nonce = std::nullopt);

  // The client-final-message. Gives the server-final-message ("v=...") on a
  // good proof, or a failure: malformed-request when it does not parse
  // (exactly c=,r=,p= in that order; c= and p= canonical base64; a proof as
  // long as the hash), not-authorized when the nonce, the channel binding or
  // the proof is wrong, or when called out of order. After a failure, or a
  // second call, every call fails.
  std::variant<std::string, sasl_failure> on_client_final(std::string_view message);

  // The username of on_client_first (empty before).
  const std::string& username() const { return username_; }
  bool succeeded() const { return succeeded_; }

 private:
  // first: awaits on_client_first; keys: awaits server_first; final: awaits
  // on_client_final; done: over (succeeded or failed), every call fails.
  enum class state : std::uint8_t { first, keys, final, done };
  scram_hash hash_;
  bool plus_;
  bool plus_offered_;
  channel_binding binding_;
  state state_ = state::first;
  bool succeeded_ = false;
  bool known_user_ = false;
  std::string username_;
  std::string gs2_header_;         // "n,,", "y,,", "p=tls-exporter,,"
  std::string client_first_bare_;  // "n=user,r=nonce"
  std::string server_first_;
  std::string nonce_;  // client nonce + server nonce
  scram_keys keys_;
};

class scram_client {
 public:
  // `binding`: use -PLUS with this binding when its type is set ("p=<type>").
  // When it is not set the flag is "n", or "y" when `could_bind`: "I could
  // bind but you offered no -PLUS" (RFC 5802 §6), which a server that did
  // offer -PLUS refuses as a downgrade. (`server_offers_plus` is kept for
  // the declared signature and changes nothing.)
  scram_client(scram_hash h, std::string username, std::string password,
               channel_binding binding = {}, bool server_offers_plus = false,
               bool could_bind = false);

  // The client-first-message (with a fresh nonce; `nonce` only for tests).
  // The username is sent with ',' and '=' escaped; neither it nor the
  // password goes through SASLprep (account names are plain ASCII).
  std::string client_first(std::optional<std::string> nonce = std::nullopt);
  // The client-final-message for the server-first-message, or a failure
  // (malformed-request: it does not parse; not-authorized: the server's nonce
  // does not extend ours, it asks for fewer than 4096 iterations, or the
  // call comes before client_first or a second time).
  std::variant<std::string, sasl_failure> on_server_first(std::string_view message);
  // Whether the server-final-message proves the server knew our keys (false
  // for "e=...", anything that does not parse, or before on_server_first).
  bool verify_server_final(std::string_view message) const;

 private:
  scram_hash hash_;
  std::string username_;
  std::string password_;
  channel_binding binding_;
  bool server_offers_plus_;
  std::string gs2_header_;
  std::string client_first_bare_;
  std::string nonce_;
  std::string expected_server_signature_;
};

}  // namespace iotxmpp
