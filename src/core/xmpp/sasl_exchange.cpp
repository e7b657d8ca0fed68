#include "core/xmpp/sasl_exchange.hpp"

#include <algorithm>

#include "core/sasl/base64.hpp"
#include "core/sasl/plain.hpp"
#include "core/xmpp/namespaces.hpp"

namespace iotxmpp {
namespace {

std::string sasl_element(std::string_view name, std::string_view payload) {
  // Appends rather than `"<" + std::string(name)`: GCC 12 warns (-Wrestrict,
  // a false positive) at -O2 on operator+(const char*, std::string&&).
  std::string out = std::string("<").append(name) + " xmlns='" + std::string(ns::sasl) + "'";
  if (payload.empty()) return out + "/>";
  return out + ">" + base64_encode(payload) + "</" + std::string(name) + ">";
}

// The payload of <auth/> or <response/>: nullopt when it is not base64. An
// element with no text carries no data; "=" is an empty response
// (RFC 6120 §6.4.2).
std::optional<std::string> payload_of(pugi::xml_node element) {
  return base64_decode(element.text().get());
}

}  // namespace

sasl_exchange::~sasl_exchange() = default;

std::vector<std::string> sasl_exchange::mechanisms(const sasl_policy& policy) {
  std::vector<std::string> out;
  if (policy.accounts) {
    if (!policy.binding.type.empty()) {
      out.push_back(scram_mechanism(scram_hash::sha256, true));
      out.push_back(scram_mechanism(scram_hash::sha1, true));
    }
    out.push_back(scram_mechanism(scram_hash::sha256, false));
    out.push_back(scram_mechanism(scram_hash::sha1, false));
    if (policy.secure || policy.plain_in_clear) out.emplace_back("PLAIN");
  }
  if (policy.anonymous) out.emplace_back("ANONYMOUS");
  return out;
}

sasl_exchange::outcome sasl_exchange::fail(sasl_condition c, std::string reason) {
  step_ = step::idle;
  mech_ = mech::none;
  scram_.reset();
  plain_password_.clear();
  pending_name_.clear();
  outcome o;
  o.send = "<failure xmlns='" + std::string(ns::sasl) + "'><" + std::string(to_string(c)) +
           "/></failure>";
  o.failure = c;
  o.reason = std::move(reason);
  return o;
}

sasl_exchange::outcome sasl_exchange::succeed(std::string_view additional) {
  step_ = step::done;
  scram_.reset();
  plain_password_.clear();
  authenticated_ = std::move(pending_name_);
  outcome o;
  o.send = sasl_element("success", additional);
  o.success = true;
  return o;
}

sasl_exchange::outcome sasl_exchange::on_element(pugi::xml_node element) {
  const std::string_view local = local_name(element);
  if (local == "abort") return fail(sasl_condition::aborted, "the client aborted");
  if (step_ == step::done) return fail(sasl_condition::malformed_request, "already authenticated");
  if (local == "auth") {
    if (step_ != step::idle)
      return fail(sasl_condition::malformed_request, "<auth/> during an exchange");
    return start(element);
  }
  if (local != "response")
    return fail(sasl_condition::malformed_request, "unexpected <" + std::string(local) + "/>");
  auto data = payload_of(element);
  if (!data) return fail(sasl_condition::incorrect_encoding, "the response is not base64");
  if (step_ == step::client_first) return client_first(*data);
  if (step_ != step::client_final || !scram_)
    return fail(sasl_condition::malformed_request, "unexpected <response/>");
  auto final = scram_->on_client_final(*data);
  if (auto* f = std::get_if<sasl_failure>(&final)) return fail(f->condition, f->text);
  if (disabled_) return fail(sasl_condition::account_disabled, "the account is disabled");
  return succeed(std::get<std::string>(final));
}

sasl_exchange::outcome sasl_exchange::start(pugi::xml_node auth) {
  const std::string_view mechanism = auth.attribute("mechanism").value();
  const auto offered = mechanisms(policy_);
  const bool is_offered =
      std::find(offered.begin(), offered.end(), std::string(mechanism)) != offered.end();
  if (mechanism == "PLAIN" && policy_.accounts && !policy_.secure && !policy_.plain_in_clear)
    return fail(sasl_condition::encryption_required, "PLAIN needs TLS");
  if (!is_offered)
    return fail(sasl_condition::invalid_mechanism,
                "mechanism not offered: " + std::string(mechanism));
  if (mechanism == "ANONYMOUS") {
    mech_ = mech::anonymous;
    return succeed({});
  }
  if (mechanism == "PLAIN") {
    mech_ = mech::plain;
  } else {
    auto parts = parse_scram_mechanism(mechanism);
    if (!parts) return fail(sasl_condition::invalid_mechanism, "unknown mechanism");
    mech_ = mech::scram;
    hash_ = parts->hash;
    scram_ = std::make_unique<scram_server>(parts->hash, parts->plus, !policy_.binding.type.empty(),
                                            policy_.binding);
  }
  auto data = payload_of(auth);
  if (!data) return fail(sasl_condition::incorrect_encoding, "the initial response is not base64");
  if (auth.text().empty()) {  // no initial response: ask for it
    step_ = step::client_first;
    outcome o;
    o.send = sasl_element("challenge", {});
    return o;
  }
  return client_first(*data);
}

sasl_exchange::outcome sasl_exchange::client_first(std::string_view message) {
  if (mech_ == mech::plain) {
    auto plain = parse_plain(message);
    if (!plain) return fail(sasl_condition::malformed_request, "not a PLAIN message");
    if (!plain->authzid.empty() && plain->authzid != plain->authcid)
      return fail(sasl_condition::invalid_authzid, "authzid differs from the account");
    pending_name_ = plain->authcid;
    plain_password_ = std::move(plain->password);
  } else {
    auto first = scram_->on_client_first(message);
    if (auto* f = std::get_if<sasl_failure>(&first)) return fail(f->condition, f->text);
    pending_name_ = std::get<std::string>(first);
  }
  step_ = step::keys;
  outcome o;
  o.lookup = pending_name_;
  return o;
}

sasl_exchange::outcome sasl_exchange::on_keys(const login_keys& keys) {
  if (step_ != step::keys) return fail(sasl_condition::malformed_request, "no look-up pending");
  if (keys.state == login_keys::status::unavailable)
    return fail(sasl_condition::temporary_auth_failure, "the account store is unavailable");
  const scram_keys* found = nullptr;
  if (keys.state == login_keys::status::found) {
    for (const auto& k : keys.keys)
      if (mech_ == mech::plain ? (!found || k.hash == scram_hash::sha256) : k.hash == hash_)
        found = &k;
  }
  if (mech_ == mech::plain) {
    if (!found || !password_matches(*found, plain_password_))
      return fail(sasl_condition::not_authorized, "wrong name or password");
    if (keys.disabled) return fail(sasl_condition::account_disabled, "the account is disabled");
    return succeed({});
  }
  disabled_ = keys.disabled;
  step_ = step::client_final;
  outcome o;
  o.send =
      sasl_element("challenge", scram_->server_first(found ? std::optional(*found) : std::nullopt));
  return o;
}

}  // namespace iotxmpp
