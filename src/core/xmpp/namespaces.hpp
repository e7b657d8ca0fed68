#pragma once
// The XML namespaces the project speaks, named once, and the one helper that
// reads an element's name without its prefix. Header-only, no pugixml types
// beyond the node handle.

#include <string_view>

#include <pugixml.hpp>

namespace iotxmpp {

namespace ns {
inline constexpr std::string_view client = "jabber:client";
inline constexpr std::string_view stream = "http://etherx.jabber.org/streams";
inline constexpr std::string_view streams = "urn:ietf:params:xml:ns:xmpp-streams";
inline constexpr std::string_view stanzas = "urn:ietf:params:xml:ns:xmpp-stanzas";
inline constexpr std::string_view sasl = "urn:ietf:params:xml:ns:xmpp-sasl";
inline constexpr std::string_view bind = "urn:ietf:params:xml:ns:xmpp-bind";
inline constexpr std::string_view session = "urn:ietf:params:xml:ns:xmpp-session";
inline constexpr std::string_view tls = "urn:ietf:params:xml:ns:xmpp-tls";
inline constexpr std::string_view sm = "urn:xmpp:sm:3";
inline constexpr std::string_view ping = "urn:xmpp:ping";
inline constexpr std::string_view disco_info = "http://jabber.org/protocol/disco#info";
inline constexpr std::string_view disco_items = "http://jabber.org/protocol/disco#items";
inline constexpr std::string_view version = "jabber:iq:version";
inline constexpr std::string_view sensordata = "urn:xmpp:iot:sensordata";
inline constexpr std::string_view recommend = "urn:iotxmpp:recommend:0";
inline constexpr std::string_view feed = "urn:iotxmpp:feed:0";
// Attributes of several nodes (the node of a disco#items item, PROTOCOL.md §3.4).
inline constexpr std::string_view cluster = "urn:iotxmpp:cluster:0";
inline constexpr std::string_view limits = "urn:xmpp:stream-limits:0";
inline constexpr std::string_view errors = "urn:xmpp:errors";
}  // namespace ns

// The name of a parsed node without its prefix ("stream:error" -> "error").
inline std::string_view local_name(pugi::xml_node node) {
  std::string_view name = node.name();
  auto colon = name.find(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

}  // namespace iotxmpp
