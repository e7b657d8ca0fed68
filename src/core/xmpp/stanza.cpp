#include "core/xmpp/stanza.hpp"

#include <initializer_list>
#include <utility>

#include "core/base/random_id.hpp"
#include "core/xml/xml_escape.hpp"

namespace iotxmpp {
namespace {

using attribute = std::pair<std::string_view, std::string_view>;

// An element with the given attributes in order, those with empty values left out.
xml_element element(std::string name, std::initializer_list<attribute> attributes) {
  xml_element e(std::move(name));
  for (const auto& [attr, value] : attributes)
    if (!value.empty()) e.set(attr, value);
  return e;
}

// <text xmlns='NS' xml:lang='en'>TEXT</text> as RFC 6120 §4.9.2 and §8.3.2 write it.
xml_element error_text(std::string_view ns, std::string_view text) {
  xml_element e("text");
  e.set("xmlns", ns).set("xml:lang", "en").set_text(text);
  return e;
}

}  // namespace

std::string stream_open_text(std::string_view from, std::string_view id, std::string_view to) {
  std::string out;
  out.reserve(200 + from.size() + id.size() + to.size());
  out.append(
      "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
      "xmlns:stream='http://etherx.jabber.org/streams' from='");
  append_escaped(out, from);
  out.append("' id='");
  append_escaped(out, id);
  out.append("' version='1.0'");
  if (!to.empty()) {
    out.append(" to='");
    append_escaped(out, to);
    out.push_back('\'');
  }
  out.append(" xml:lang='en'>");
  return out;
}

std::string new_stream_id() { return random_hex(32); }

std::string stream_error(stream_condition c, std::string_view text, const xml_element* app) {
  std::string out;
  out.reserve(160 + text.size());
  out.append("<stream:error>");
  xml_element(std::string(to_string(c))).set("xmlns", ns::streams).write(out);
  if (!text.empty()) error_text(ns::streams, text).write(out);
  if (app != nullptr) app->write(out);
  out.append("</stream:error></stream:stream>");
  return out;
}

xml_element stanza_error(stanza_condition c, std::string_view text) {
  xml_element e("error");
  e.set("type", default_error_type(c));
  e.add_child(std::string(to_string(c))).set("xmlns", ns::stanzas);
  if (!text.empty()) e.add(error_text(ns::stanzas, text));
  return e;
}

xml_element error_reply(pugi::xml_node request, stanza_condition c, std::string_view from,
                        std::string_view to, std::string_view text) {
  xml_element reply = element(
      request.name(),
      {{"type", "error"}, {"id", request.attribute("id").value()}, {"from", from}, {"to", to}});
  reply.add(stanza_error(c, text));
  return reply;
}

xml_element iq_result(std::string_view id, std::string_view from, std::string_view to) {
  return element("iq", {{"type", "result"}, {"id", id}, {"from", from}, {"to", to}});
}

xml_element message(std::string_view to, std::string_view id, std::string_view type) {
  return element("message", {{"to", to}, {"id", id}, {"type", type}});
}

xml_element presence(std::string_view type) { return element("presence", {{"type", type}}); }

xml_element iq(std::string_view type, std::string_view id, std::string_view to) {
  return element("iq", {{"type", type}, {"id", id}, {"to", to}});
}

}  // namespace iotxmpp
