#include "core/xmpp/remote_error.hpp"

#include <string>

#include "core/xmpp/namespaces.hpp"
#include "core/xmpp/stanza.hpp"

namespace iotxmpp {
namespace {

// The condition element and <text> inside an error container: children in
// `condition_ns` other than <text> (by their xmlns, or unqualified when the
// server wrote them without one).
error read_condition(pugi::xml_node container, std::string_view condition_ns, std::string prefix) {
  std::string condition, text;
  for (pugi::xml_node c = container.first_child(); c; c = c.next_sibling()) {
    if (c.type() != pugi::node_element) continue;
    std::string_view name = local_name(c);
    std::string_view xmlns = c.attribute("xmlns").value();
    if (name == "text") {
      if (text.empty()) text = c.child_value();
    } else if (condition.empty() && (xmlns == condition_ns || xmlns.empty())) {
      condition = name;
    }
  }
  if (condition.empty()) condition = "undefined-condition";
  std::string message = std::move(prefix) + condition;
  if (!text.empty()) message += ": " + text;
  return error{error_kind::remote, std::move(message), std::move(condition)};
}

}  // namespace

error stream_error_of(pugi::xml_node stream_error) {
  return read_condition(stream_error, ns::streams, "stream error: ");
}

error stanza_error_of(pugi::xml_node stanza) {
  pugi::xml_node container;
  for (pugi::xml_node c = stanza.first_child(); c; c = c.next_sibling())
    if (c.type() == pugi::node_element && local_name(c) == "error") container = c;
  return read_condition(container, ns::stanzas, std::string(local_name(stanza)) + " error: ");
}

}  // namespace iotxmpp
