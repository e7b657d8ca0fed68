#include "core/xmpp/negotiation.hpp"

#include <cstdlib>

#include "core/base/random_id.hpp"
#include "core/xml/xml_element.hpp"
#include "core/xmpp/namespaces.hpp"
#include "core/xmpp/stanza.hpp"

namespace iotxmpp {
namespace {

bool is_stanza(std::string_view name) {
  return name == "message" || name == "presence" || name == "iq";
}

// A resource for clients that ask for none: short, random, never reused in
// practice (PORT@IP already makes the JID unique on one server).
std::string generated_resource() { return "iotxmpp-" + random_hex(8); }

// Code points of valid UTF-8 (a JID is): the bytes that start a sequence,
// counted as the store's columns count characters.
std::size_t characters(std::string_view utf8) {
  std::size_t n = 0;
  for (char c : utf8)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  return n;
}

negotiation::step fatal(stream_condition c, std::string text) {
  negotiation::step s;
  s.fatal = c;
  s.fatal_text = std::move(text);
  return s;
}

}  // namespace

negotiation::negotiation(const stream_policy& policy, std::string address, unsigned short port)
    : policy_(policy), address_(std::move(address)), port_(port), sasl_(current_sasl_policy()) {}

sasl_policy negotiation::current_sasl_policy() const {
  sasl_policy p;
  p.anonymous = policy_.anonymous;
  p.plain_in_clear = policy_.plain_in_clear;
  p.secure = secure_;
  p.binding = binding_;
  return p;
}

void negotiation::set_secure(channel_binding binding) {
  secure_ = true;
  binding_ = std::move(binding);
  sasl_.set_policy(current_sasl_policy());
}

std::string negotiation::header_for_error() {
  header_sent_ = true;
  return stream_open_text(policy_.domain, new_stream_id());
}

std::string negotiation::features() const {
  std::string out = "<stream:features>";
  if (phase_ == phase::header || phase_ == phase::auth) {
    if (policy_.tls_offered && !secure_) {
      out += "<starttls xmlns='";
      out += ns::tls;
      out += policy_.tls_required ? "'><required/></starttls>" : "'/>";
    }
    // While TLS is required, STARTTLS is the only feature (RFC 6120 §5.3.1).
    if (!tls_pending()) {
      out += "<mechanisms xmlns='";
      out += ns::sasl;
      out += "'>";
      for (const auto& m : sasl_exchange::mechanisms(current_sasl_policy()))
        out += "<mechanism>" + m + "</mechanism>";
      out += "</mechanisms>";
    }
  } else {
    out += "<bind xmlns='";
    out += ns::bind;
    out += "'/><sm xmlns='";
    out += ns::sm;
    out += "'/>";
  }
  // XEP-0478: announce the limits so clients can stay inside them.
  out += "<limits xmlns='";
  out += ns::limits;
  out += "'><max-bytes>" + std::to_string(policy_.max_stanza_bytes) + "</max-bytes>";
  out += "<idle-seconds>" +
         std::to_string(
             std::chrono::duration_cast<std::chrono::seconds>(policy_.idle_timeout).count()) +
         "</idle-seconds></limits></stream:features>";
  return out;
}

negotiation::step negotiation::on_header(const stream_header& header) {
  step s;
  s.send = stream_open_text(policy_.domain, new_stream_id());
  header_sent_ = true;
  std::string_view to = header.attribute("to");
  if (!to.empty() && to != policy_.domain) {
    s.fatal = stream_condition::host_unknown;
    s.fatal_text = "this server serves " + policy_.domain;
    return s;
  }
  if (header.attribute("version") != "1.0") {
    s.fatal = stream_condition::unsupported_version;
    s.fatal_text = "version='1.0' is required";
    return s;
  }
  if (phase_ == phase::header)
    phase_ = phase::auth;
  else if (phase_ == phase::restart)
    phase_ = phase::bind;
  s.send += features();
  return s;
}

negotiation::step negotiation::on_element(pugi::xml_node element) {
  std::string_view name = local_name(element);
  std::string_view xmlns = element.attribute("xmlns").value();
  if (phase_ == phase::auth && xmlns == ns::sasl) return on_auth(element);
  if (phase_ == phase::bind && name == "iq" && element.child("bind")) return on_bind(element);
  if (is_stanza(name))
    return fatal(stream_condition::not_authorized, "authenticate and bind a resource first");
  if (xmlns == ns::tls && name == "starttls" && phase_ == phase::auth && policy_.tls_offered &&
      !secure_) {
    // <proceed/> goes out in the clear; the next bytes either way are TLS,
    // then a new stream (RFC 6120 §5.4.3.3).
    step s;
    s.send = "<proceed xmlns='" + std::string(ns::tls) + "'/>";
    s.start_tls = true;
    s.restart = true;
    phase_ = phase::header;
    return s;
  }
  if (xmlns == ns::tls) {
    if (policy_.tls_offered && !secure_ && phase_ == phase::auth)
      return fatal(stream_condition::unsupported_stanza_type, "expected <starttls/>");
    return fatal(stream_condition::not_authorized,
                 secure_ ? "TLS is already in use" : "STARTTLS is not offered by this server");
  }
  if (xmlns == ns::sm && name == "resume" && phase_ == phase::bind) {
    // XEP-0198 §5: in place of bind; the session looks the stream up.
    step s;
    const char* h_text = element.attribute("h").value();
    char* end = nullptr;
    const unsigned long long h = std::strtoull(h_text, &end, 10);
    if (!*h_text || *end || h > 0xffffffffULL || !*element.attribute("previd").value()) {
      s.send = "<failed xmlns='" + std::string(ns::sm) + "'><bad-request xmlns='" +
               std::string(ns::stanzas) + "'/></failed>";
      return s;
    }
    s.resume.emplace(element.attribute("previd").value(), static_cast<std::uint32_t>(h));
    return s;
  }
  if (xmlns == ns::sm) {
    // XEP-0198: <enable/> only after bind; <resume/> only in its place.
    step s;
    if (name == "enable" || name == "resume") {
      s.send = "<failed xmlns='" + std::string(ns::sm) + "'><" + "unexpected-request xmlns='" +
               std::string(ns::stanzas) + "'/></failed>";
    }
    return s;
  }
  if (xmlns == ns::sasl) return fatal(stream_condition::not_authorized, "already authenticated");
  return fatal(stream_condition::unsupported_stanza_type,
               "unexpected element <" + std::string(element.name()) + ">");
}

negotiation::step negotiation::on_auth(pugi::xml_node element) {
  if (tls_pending()) {
    sasl_exchange::outcome o;
    o.send = "<failure xmlns='" + std::string(ns::sasl) + "'><encryption-required/></failure>";
    o.failure = sasl_condition::encryption_required;
    o.reason = "STARTTLS first";
    return after_sasl(std::move(o));
  }
  return after_sasl(sasl_.on_element(element));
}

negotiation::step negotiation::on_keys(const login_keys& keys) {
  return after_sasl(sasl_.on_keys(keys));
}

negotiation::step negotiation::after_sasl(sasl_exchange::outcome outcome) {
  step s;
  s.send = std::move(outcome.send);
  s.lookup = std::move(outcome.lookup);
  if (outcome.failure) {
    s.auth_failure = outcome.failure;
    s.auth_reason = std::move(outcome.reason);
    if (++auth_failures_ >= policy_.max_auth_failures) {
      s.fatal = stream_condition::not_authorized;
      s.fatal_text = "too many failed authentication attempts";
    }
    return s;
  }
  if (outcome.success) {
    s.restart = true;
    phase_ = phase::restart;
  }
  return s;
}

negotiation::step negotiation::on_bind(pugi::xml_node iq) {
  step s;
  std::string_view id = iq.attribute("id").value();
  std::string_view type = iq.attribute("type").value();
  if (id.empty() || type != "set") {
    s.send = error_reply(iq, stanza_condition::bad_request, policy_.domain, {},
                         "bind needs type='set' and an id")
                 .str();
    return s;
  }
  std::string resource = iq.child("bind").child_value("resource");
  if (resource.empty()) resource = generated_resource();
  auto bound = account().empty() ? address_jid(address_, port_, resource)
                                 : jid::make(account(), policy_.domain, resource);
  if (!bound) {
    s.send =
        error_reply(iq, stanza_condition::bad_request, policy_.domain, {}, bound.error().message)
            .str();
    return s;
  }
  if (const std::size_t length = characters(bound->to_string());
      length > policy_.max_jid_characters) {
    s.send = error_reply(
                 iq, stanza_condition::bad_request, policy_.domain, {},
                 "the full JID is " + std::to_string(length) + " characters; the limit is " +
                     std::to_string(policy_.max_jid_characters) + " (ask for a shorter resource)")
                 .str();
    return s;
  }
  bound_ = std::move(*bound);
  xml_element reply = iq_result(id, {}, {});
  reply.add_child("bind").set("xmlns", ns::bind).add_child("jid").set_text(bound_.to_string());
  s.send = reply.str();
  s.bound = true;
  phase_ = phase::bound;
  return s;
}

}  // namespace iotxmpp
