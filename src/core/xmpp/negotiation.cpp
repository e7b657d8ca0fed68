#include "core/xmpp/negotiation.hpp"

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

negotiation::step fatal(stream_condition c, std::string text) {
  negotiation::step s;
  s.fatal = c;
  s.fatal_text = std::move(text);
  return s;
}

}  // namespace

negotiation::negotiation(const stream_policy& policy, std::string address, unsigned short port)
    : policy_(policy), address_(std::move(address)), port_(port) {}

std::string negotiation::header_for_error() {
  header_sent_ = true;
  return stream_open_text(policy_.domain, new_stream_id());
}

std::string negotiation::features() const {
  std::string out = "<stream:features>";
  if (phase_ == phase::header || phase_ == phase::auth) {
    out += "<mechanisms xmlns='";
    out += ns::sasl;
    out += "'><mechanism>ANONYMOUS</mechanism></mechanisms>";
  } else {
    out += "<bind xmlns='";
    out += ns::bind;
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
  if (xmlns == ns::tls)
    return fatal(stream_condition::not_authorized, "STARTTLS is not offered by this server");
  if (xmlns == ns::sm) {
    step s;
    if (name == "enable" || name == "resume") {
      s.send = "<failed xmlns='" + std::string(ns::sm) + "'><unexpected-request xmlns='" +
               std::string(ns::stanzas) + "'/></failed>";
    }
    return s;
  }
  if (xmlns == ns::sasl) return fatal(stream_condition::not_authorized, "already authenticated");
  return fatal(stream_condition::unsupported_stanza_type,
               "unexpected element <" + std::string(element.name()) + ">");
}

negotiation::step negotiation::on_auth(pugi::xml_node auth) {
  step s;
  std::string_view name = local_name(auth);
  auto failure = [&](std::string_view condition) {
    s.send = "<failure xmlns='" + std::string(ns::sasl) + "'><" + std::string(condition) +
             "/></failure>";
    return s;
  };
  if (name == "abort") return failure("aborted");
  if (name != "auth") return fatal(stream_condition::not_authorized, "expected <auth/>");
  std::string_view mechanism = auth.attribute("mechanism").value();
  if (mechanism != "ANONYMOUS") return failure("invalid-mechanism");
  s.send = "<success xmlns='" + std::string(ns::sasl) + "'/>";
  s.restart = true;
  phase_ = phase::restart;
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
  auto bound = address_jid(address_, port_, resource);
  if (!bound) {
    s.send =
        error_reply(iq, stanza_condition::bad_request, policy_.domain, {}, bound.error().message)
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
