#include "core/xmpp/client_negotiation.hpp"

#include <algorithm>
#include <array>
#include <variant>
#include <vector>

#include "core/sasl/base64.hpp"
#include "core/sasl/plain.hpp"
#include "core/xml/xml_element.hpp"
#include "core/xml/xml_escape.hpp"
#include "core/xmpp/namespaces.hpp"
#include "core/xmpp/remote_error.hpp"
#include "core/xmpp/stanza.hpp"

namespace iotxmpp {
namespace {

client_negotiation::step failed(error_kind kind, std::string message, std::string condition = {}) {
  client_negotiation::step s;
  s.failure = error{kind, std::move(message), std::move(condition)};
  return s;
}

// The child of `parent` with this local name and xmlns, or an empty node.
pugi::xml_node child_in(pugi::xml_node parent, std::string_view name, std::string_view xmlns) {
  for (pugi::xml_node c = parent.first_child(); c; c = c.next_sibling())
    if (c.type() == pugi::node_element && local_name(c) == name &&
        c.attribute("xmlns").value() == xmlns)
      return c;
  return {};
}

// A SASL element in its namespace with `payload` base64-encoded as its text
// (RFC 6120 §6.4.2: "=" stands for an empty payload that is there).
std::string sasl_element(std::string_view name, std::string_view attributes,
                         std::optional<std::string_view> payload) {
  std::string out = "<";
  out += name;
  out += " xmlns='";
  out += ns::sasl;
  out += "'";
  out += attributes;
  if (!payload) return out + "/>";
  out += ">";
  out += payload->empty() ? std::string("=") : base64_encode(*payload);
  out += "</";
  out += name;
  out += ">";
  return out;
}

// The failure's condition (RFC 6120 §6.5) and text, as one line.
error sasl_failure_of(pugi::xml_node failure) {
  std::string condition, text;
  for (pugi::xml_node c = failure.first_child(); c; c = c.next_sibling()) {
    if (c.type() != pugi::node_element) continue;
    if (local_name(c) == "text") {
      if (text.empty()) text = c.child_value();
    } else if (condition.empty()) {
      condition = local_name(c);
    }
  }
  // RFC 6120 §6.5: a failure without a known condition is not-authorized.
  if (condition.empty()) condition = "not-authorized";
  std::string message = "authentication failed: " + condition;
  for (char& ch : text)
    if (static_cast<unsigned char>(ch) < 0x20) ch = ' ';
  if (!text.empty()) message += ": " + text;
  return error{error_kind::remote, std::move(message), std::move(condition)};
}

struct candidate {
  const char* name;
  scram_hash hash;
  bool scram;
  bool plus;
};

// Strongest first (RFC 7677 §4: SHA-256 over SHA-1; channel binding first).
constexpr std::array<candidate, 5> preference{{
    {"SCRAM-SHA-256-PLUS", scram_hash::sha256, true, true},
    {"SCRAM-SHA-1-PLUS", scram_hash::sha1, true, true},
    {"SCRAM-SHA-256", scram_hash::sha256, true, false},
    {"SCRAM-SHA-1", scram_hash::sha1, true, false},
    {"PLAIN", scram_hash::sha256, false, false},
}};

}  // namespace

client_negotiation::client_negotiation(client_login login) : login_(std::move(login)) {}

namespace {
client_login anonymous_login(std::string domain, std::string resource) {
  client_login login;
  login.domain = std::move(domain);
  login.resource = std::move(resource);
  return login;
}
}  // namespace

client_negotiation::client_negotiation(std::string domain, std::string resource)
    : client_negotiation(anonymous_login(std::move(domain), std::move(resource))) {}

std::string client_negotiation::opening() const {
  std::string out = "<?xml version='1.0'?><stream:stream xmlns='";
  out += ns::client;
  out += "' xmlns:stream='";
  out += ns::stream;
  out += "' to='";
  append_escaped(out, login_.domain);
  out += "' version='1.0'>";
  return out;
}

client_negotiation::step client_negotiation::tls_established(channel_binding binding) {
  tls_ = true;
  binding_ = std::move(binding);
  // A new stream over TLS (RFC 6120 §5.4.3.3): nothing said before counts.
  phase_ = phase::header;
  step s;
  s.restart = true;
  s.send = opening();
  return s;
}

client_negotiation::step client_negotiation::on_header(const stream_header& header) {
  if (header.attribute("version") != "1.0")
    return failed(error_kind::protocol, "the server does not speak XMPP 1.0 streams");
  if (phase_ == phase::header)
    phase_ = phase::features;
  else if (phase_ == phase::restart_features)
    phase_ = phase::bind;
  return {};
}

client_negotiation::step client_negotiation::on_element(pugi::xml_node element) {
  std::string_view name = local_name(element);
  std::string_view xmlns = element.attribute("xmlns").value();
  if (name == "features" && (phase_ == phase::features || phase_ == phase::bind))
    return on_features(element);
  if (phase_ == phase::starttls && xmlns == ns::tls) {
    if (name == "proceed") {
      phase_ = phase::tls_handshake;
      step s;
      s.restart = true;
      s.start_tls = true;
      return s;
    }
    if (name == "failure")
      return failed(error_kind::remote, "the server refused STARTTLS", "failure");
  }
  if (phase_ == phase::auth && xmlns == ns::sasl) return on_sasl(name, element);
  if (phase_ == phase::bind && name == "iq" &&
      element.attribute("id").value() == std::string_view("bind")) {
    std::string_view type = element.attribute("type").value();
    if (type == "error") {
      error e = stanza_error_of(element);
      return failed(error_kind::remote, "bind refused: " + e.condition, e.condition);
    }
    if (type == "result") return on_bind_result(element);
  }
  if (phase_ == phase::enable_sm && xmlns == ns::sm && (name == "enabled" || name == "failed"))
    return on_sm(name, element);
  if (phase_ == phase::resume && xmlns == ns::sm && (name == "resumed" || name == "failed"))
    return on_resume_answer(name, element);
  return failed(error_kind::protocol,
                "unexpected <" + std::string(element.name()) + "> during stream negotiation");
}

client_negotiation::step client_negotiation::on_features(pugi::xml_node features) {
  step s;
  if (phase_ == phase::features) {
    if (!tls_ && child_in(features, "starttls", ns::tls)) {
      s.send = "<starttls xmlns='" + std::string(ns::tls) + "'/>";
      phase_ = phase::starttls;
      return s;
    }
    if (!tls_ && login_.tls_required)
      return failed(error_kind::remote,
                    "TLS is required but the server does not offer STARTTLS: not going on in "
                    "plain text");
    return start_auth(features);
  }
  if (!child_in(features, "bind", ns::bind))
    return failed(error_kind::protocol, "the server does not offer resource binding");
  sm_offered_ = static_cast<bool>(child_in(features, "sm", ns::sm));
  if (sm_offered_ && !login_.resume_previd.empty()) {
    // XEP-0198 §5: <resume/> in place of bind.
    xml_element resume("resume");
    resume.set("xmlns", ns::sm)
        .set("previd", login_.resume_previd)
        .set("h", std::to_string(login_.resume_handled));
    s.send = resume.str();
    phase_ = phase::resume;
    return s;
  }
  return bind_request();
}

client_negotiation::step client_negotiation::bind_request() {
  step s;
  xml_element request = iq("set", "bind");
  xml_element& bind = request.add_child("bind").set("xmlns", ns::bind);
  if (!login_.resource.empty()) bind.add_child("resource").set_text(login_.resource);
  s.send = request.str();
  return s;
}

client_negotiation::step client_negotiation::on_resume_answer(std::string_view name,
                                                              pugi::xml_node element) {
  if (name == "resumed") {
    auto h = element.attribute("h");
    if (!h || element.attribute("previd").value() != login_.resume_previd)
      return failed(error_kind::protocol, "<resumed/> without h or for another stream");
    resumed_ = static_cast<std::uint32_t>(h.as_ullong());
    phase_ = phase::bound;
    step s;
    s.bound = true;
    return s;
  }
  // XEP-0198 §5: the stream is gone; bind a new one on this stream.
  for (pugi::xml_node c = element.first_child(); c; c = c.next_sibling())
    if (c.type() == pugi::node_element) {
      resume_refusal_ = local_name(c);
      break;
    }
  if (resume_refusal_.empty()) resume_refusal_ = "undefined-condition";
  phase_ = phase::bind;
  return bind_request();
}

client_negotiation::step client_negotiation::on_bind_result(pugi::xml_node iq) {
  auto text = child_in(iq, "bind", ns::bind).child_value("jid");
  auto bound = jid::parse(text);
  if (!bound || bound->is_bare())
    return failed(error_kind::protocol, "bind result without a full JID");
  bound_ = std::move(*bound);
  step s;
  if (sm_offered_ && login_.stream_management) {
    // XEP-0198 §3: enable right after bind, before any stanza, so that the
    // counts of both sides start together.
    s.send = "<enable xmlns='" + std::string(ns::sm) + "' resume='true'/>";
    phase_ = phase::enable_sm;
    return s;
  }
  phase_ = phase::bound;
  s.bound = true;
  return s;
}

client_negotiation::step client_negotiation::on_sm(std::string_view name, pugi::xml_node element) {
  if (name == "enabled") {
    sm_enabled e;
    std::string_view resume = element.attribute("resume").value();
    e.resume = resume == "true" || resume == "1";
    if (e.resume) e.id = element.attribute("id").value();
    if (e.id.empty()) e.resume = false;  // nothing to resume with
    // XEP-0198 §3: max is the server's preferred maximum resumption time;
    // a value that does not parse is taken as not said.
    e.max_seconds = element.attribute("max").as_uint(0);
    sm_ = std::move(e);
  } else {
    // XEP-0198 §3: <failed/> to <enable/> leaves a working stream without
    // stream management.
    for (pugi::xml_node c = element.first_child(); c; c = c.next_sibling())
      if (c.type() == pugi::node_element) {
        sm_refusal_ = local_name(c);
        break;
      }
    if (sm_refusal_.empty()) sm_refusal_ = "undefined-condition";
  }
  phase_ = phase::bound;
  step s;
  s.bound = true;
  return s;
}

client_negotiation::step client_negotiation::start_auth(pugi::xml_node features) {
  std::vector<std::string_view> offered;
  for (pugi::xml_node m : child_in(features, "mechanisms", ns::sasl).children("mechanism"))
    offered.emplace_back(m.child_value());
  auto offers = [&](std::string_view name) {
    return std::find(offered.begin(), offered.end(), name) != offered.end();
  };
  std::string offered_text;
  for (auto m : offered) offered_text += (offered_text.empty() ? "" : ", ") + std::string(m);
  if (offered_text.empty()) offered_text = "none";

  step s;
  if (login_.user.empty()) {
    if (!offers("ANONYMOUS"))
      return failed(error_kind::remote, "the server does not offer SASL ANONYMOUS (it offers " +
                                            offered_text + "): log in with an account");
    mechanism_ = "ANONYMOUS";
    s.send = sasl_element("auth", " mechanism='ANONYMOUS'", std::nullopt);
    phase_ = phase::auth;
    return s;
  }

  bool binding = tls_ && !binding_.type.empty();
  bool plus_offered = offers("SCRAM-SHA-256-PLUS") || offers("SCRAM-SHA-1-PLUS");
  bool plain_allowed = tls_ || login_.allow_plain_over_plaintext;
  for (const candidate& c : preference) {
    if (!offers(c.name) || (c.plus && !binding) || (!c.scram && !plain_allowed)) continue;
    mechanism_ = c.name;
    std::string initial;
    if (c.scram) {
      // RFC 5802 §6: with binding data and -PLUS offered the gs2 flag is
      // "p=" (and -PLUS was chosen above); with data but no -PLUS offered it
      // is "y", so a server that did offer -PLUS sees the downgrade.
      scram_.emplace(c.hash, login_.user, login_.password, c.plus ? binding_ : channel_binding{},
                     plus_offered, binding && !c.plus);
      initial = scram_->client_first();
    } else {
      initial = make_plain(login_.user, login_.password);
    }
    s.send = sasl_element("auth", " mechanism='" + mechanism_ + "'", initial);
    phase_ = phase::auth;
    return s;
  }
  if (offers("PLAIN") && !plain_allowed)
    return failed(error_kind::remote,
                  "the server offers only PLAIN for a password, which would send it in plain text "
                  "without TLS (it offers " +
                      offered_text + ")");
  return failed(
      error_kind::remote,
      "the server offers no SASL mechanism for a password (it offers " + offered_text + ")");
}

client_negotiation::step client_negotiation::on_sasl(std::string_view name,
                                                     pugi::xml_node element) {
  if (name == "failure") {
    step s;
    s.failure = sasl_failure_of(element);
    return s;
  }
  std::string_view text = element.child_value();
  auto payload = base64_decode(text);
  if (!payload)
    return failed(error_kind::protocol,
                  "the server sent bad base64 in <" + std::string(name) + ">");
  if (name == "challenge") return on_challenge(*payload);
  if (name == "success") return on_success(*payload);
  return failed(error_kind::protocol,
                "unexpected <" + std::string(element.name()) + "> during SASL " + mechanism_);
}

client_negotiation::step client_negotiation::on_challenge(std::string_view payload) {
  if (!scram_ || server_verified_)
    return failed(error_kind::protocol, "unexpected SASL challenge during " + mechanism_);
  step s;
  if (!scram_final_sent_) {
    auto answer = scram_->on_server_first(payload);
    if (auto* f = std::get_if<sasl_failure>(&answer))
      return failed(error_kind::protocol,
                    "the server's SCRAM challenge is not acceptable: " + f->text,
                    std::string(to_string(f->condition)));
    scram_final_sent_ = true;
    s.send = sasl_element("response", "", std::get<std::string>(answer));
    return s;
  }
  // RFC 6120 §6.4.6 lets a server send its additional data as a last
  // challenge, answered with an empty response, before a bare <success/>.
  if (!scram_->verify_server_final(payload))
    return failed(error_kind::protocol,
                  "the server's SCRAM signature is wrong: it does not know this account's keys");
  server_verified_ = true;
  s.send = sasl_element("response", "", std::nullopt);
  return s;
}

client_negotiation::step client_negotiation::on_success(std::string_view payload) {
  if (scram_) {
    if (!scram_final_sent_)
      return failed(error_kind::protocol, "SASL success before the SCRAM exchange was done");
    // The server-final-message proves that the server holds the account's
    // keys (RFC 5802 §3): without it the login proves nothing about the server.
    if (!server_verified_) {
      if (payload.empty())
        return failed(error_kind::protocol,
                      "SASL success without the SCRAM server signature: the server is not proven");
      if (!scram_->verify_server_final(payload))
        return failed(
            error_kind::protocol,
            "the server's SCRAM signature is wrong: it does not know this account's keys");
    }
    scram_.reset();
  }
  phase_ = phase::restart_features;
  step s;
  s.restart = true;
  s.send = opening();
  return s;
}

}  // namespace iotxmpp
