#pragma once
// The server's side of SASL (RFC 6120 §6) on one stream: which mechanisms
// it offers, and the <auth/>, <response/> and <abort/> elements in, the
// <challenge/>, <success/> and <failure/> elements out. SCRAM-SHA-256 and
// SCRAM-SHA-1 (with -PLUS over TLS), PLAIN (over TLS, or when the operator
// allows it in plain text) and ANONYMOUS (when allowed). No I/O and no
// store: when it needs an account's keys it says so (outcome::lookup) and
// is handed them (on_keys).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <pugixml.hpp>

#include "core/sasl/sasl_condition.hpp"
#include "core/sasl/scram.hpp"

namespace iotxmpp {

// What the stream allows at the time of <auth/>.
struct sasl_policy {
  bool anonymous = true;        // offer ANONYMOUS
  bool accounts = true;         // offer SCRAM (and PLAIN, see below)
  bool plain_in_clear = false;  // PLAIN without TLS (labs only)
  bool secure = false;          // the stream runs over TLS
  channel_binding binding;      // the TLS channel's binding; empty type: no -PLUS
};

// An account's keys as the store holds them, for one login.
struct login_keys {
  enum class status : std::uint8_t { found, missing, unavailable } state = status::missing;
  bool disabled = false;
  std::vector<scram_keys> keys;  // one per hash
};

class sasl_exchange {
 public:
  struct outcome {
    std::string send;                       // the element for the client, if any
    std::optional<std::string> lookup;      // fetch this account's keys, then call on_keys
    bool success = false;                   // authenticated as authenticated() (empty: anonymous)
    std::optional<sasl_condition> failure;  // a <failure/> was sent
    std::string reason;                     // for the log, with the failure
  };

  // The mechanisms offered under `policy`, strongest first.
  static std::vector<std::string> mechanisms(const sasl_policy& policy);

  explicit sasl_exchange(sasl_policy policy) : policy_(std::move(policy)) {}
  ~sasl_exchange();

  // <auth/>, <response/> or <abort/> (any other element is the caller's).
  outcome on_element(pugi::xml_node element);
  // The keys asked for by the last outcome's lookup.
  outcome on_keys(const login_keys& keys);

  bool awaiting_keys() const { return step_ == step::keys; }
  // The account name of a successful login; empty for ANONYMOUS.
  const std::string& authenticated() const { return authenticated_; }
  // Updates the policy between attempts (TLS started, binding known).
  void set_policy(sasl_policy policy) { policy_ = std::move(policy); }

 private:
  enum class step : std::uint8_t { idle, client_first, keys, client_final, done };
  enum class mech : std::uint8_t { none, anonymous, plain, scram };
  outcome start(pugi::xml_node auth);
  outcome client_first(std::string_view message);
  outcome fail(sasl_condition c, std::string reason);
  outcome succeed(std::string_view additional);

  sasl_policy policy_;
  step step_ = step::idle;
  mech mech_ = mech::none;
  std::unique_ptr<scram_server> scram_;
  scram_hash hash_ = scram_hash::sha256;
  std::string plain_password_;  // PLAIN: held only until the keys arrive
  bool disabled_ = false;       // SCRAM: refuse after a good proof
  std::string pending_name_;
  std::string authenticated_;
};

}  // namespace iotxmpp
