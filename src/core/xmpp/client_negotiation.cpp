#include "core/xmpp/client_negotiation.hpp"

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

}  // namespace

client_negotiation::client_negotiation(std::string domain, std::string resource)
    : domain_(std::move(domain)), resource_(std::move(resource)) {}

std::string client_negotiation::opening() const {
  std::string out = "<?xml version='1.0'?><stream:stream xmlns='";
  out += ns::client;
  out += "' xmlns:stream='";
  out += ns::stream;
  out += "' to='";
  append_escaped(out, domain_);
  out += "' version='1.0'>";
  return out;
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
  if (phase_ == phase::auth && xmlns == ns::sasl) {
    if (name == "success") {
      phase_ = phase::restart_features;
      step s;
      s.restart = true;
      s.send = opening();
      return s;
    }
    if (name == "failure") {
      std::string condition = "not-authorized";
      for (pugi::xml_node c = element.first_child(); c; c = c.next_sibling())
        if (c.type() == pugi::node_element && local_name(c) != "text") {
          condition = local_name(c);
          break;
        }
      return failed(error_kind::remote, "authentication failed: " + condition, condition);
    }
  }
  if (phase_ == phase::bind && name == "iq" &&
      element.attribute("id").value() == std::string_view("bind")) {
    std::string_view type = element.attribute("type").value();
    if (type == "error") {
      error e = stanza_error_of(element);
      return failed(error_kind::remote, "bind refused: " + e.condition, e.condition);
    }
    if (type == "result") {
      auto text = child_in(element, "bind", ns::bind).child_value("jid");
      auto bound = jid::parse(text);
      if (!bound || bound->is_bare())
        return failed(error_kind::protocol, "bind result without a full JID");
      bound_ = std::move(*bound);
      phase_ = phase::bound;
      step s;
      s.bound = true;
      return s;
    }
  }
  return failed(error_kind::protocol,
                "unexpected <" + std::string(element.name()) + "> during stream negotiation");
}

client_negotiation::step client_negotiation::on_features(pugi::xml_node features) {
  step s;
  if (phase_ == phase::features) {
    pugi::xml_node mechanisms = child_in(features, "mechanisms", ns::sasl);
    bool anonymous = false;
    for (pugi::xml_node m : mechanisms.children("mechanism"))
      if (std::string_view(m.child_value()) == "ANONYMOUS") anonymous = true;
    if (!anonymous) return failed(error_kind::remote, "the server does not offer SASL ANONYMOUS");
    s.send = "<auth xmlns='" + std::string(ns::sasl) + "' mechanism='ANONYMOUS'/>";
    phase_ = phase::auth;
    return s;
  }
  if (!child_in(features, "bind", ns::bind))
    return failed(error_kind::protocol, "the server does not offer resource binding");
  xml_element request = iq("set", "bind");
  xml_element& bind = request.add_child("bind").set("xmlns", ns::bind);
  if (!resource_.empty()) bind.add_child("resource").set_text(resource_);
  s.send = request.str();
  return s;
}

}  // namespace iotxmpp
