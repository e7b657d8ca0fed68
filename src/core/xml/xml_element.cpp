#include "core/xml/xml_element.hpp"

#include "core/xml/xml_attr.hpp"
#include "core/xml/xml_escape.hpp"

namespace iotxmpp {
namespace {

void append_end_tag(std::string& out, std::string_view name) {
  out.append("</");
  out.append(name);
  out.push_back('>');
}

bool is_text(pugi::xml_node node) {
  return node.type() == pugi::node_pcdata || node.type() == pugi::node_cdata;
}

}  // namespace

xml_element& xml_element::set(std::string_view attr, std::string_view value) {
  for (auto& [name, old] : attributes_) {
    if (name == attr) {
      old.assign(value);
      return *this;
    }
  }
  attributes_.emplace_back(attr, value);
  return *this;
}

std::string_view xml_element::get(std::string_view attr) const {
  for (const auto& [name, value] : attributes_)
    if (name == attr) return value;
  return {};
}

xml_element& xml_element::add(xml_element child) {
  children_.push_back(std::move(child));
  return *this;
}

xml_element& xml_element::add_child(std::string name) {
  return children_.emplace_back(std::move(name));
}

xml_element& xml_element::set_text(std::string_view text) {
  text_.assign(text);
  return *this;
}

void xml_element::write(std::string& out) const {
  out.push_back('<');
  out.append(name_);
  for (const auto& [name, value] : attributes_) append_attribute(out, name, value);
  if (text_.empty() && children_.empty()) {
    out.append("/>");
    return;
  }
  out.push_back('>');
  append_escaped(out, text_, xml_context::text);
  for (const auto& child : children_) child.write(out);
  append_end_tag(out, name_);
}

std::string xml_element::str() const {
  std::string out;
  out.reserve(256);
  write(out);
  return out;
}

xml_element xml_element::from(pugi::xml_node node) {
  if (node.type() == pugi::node_document)
    node = node.find_child([](pugi::xml_node c) { return c.type() == pugi::node_element; });
  xml_element out(node.name());
  for (const auto attr : node.attributes()) out.attributes_.emplace_back(attr.name(), attr.value());
  for (const auto child : node.children()) {
    if (child.type() == pugi::node_element)
      out.children_.push_back(from(child));
    else if (is_text(child))
      out.text_.append(child.value());
  }
  return out;
}

void write_node(pugi::xml_node node, std::string& out, std::string_view from, std::string_view to) {
  const std::string_view name = node.name();
  out.push_back('<');
  out.append(name);
  bool from_written = from.empty();
  bool to_written = to.empty();
  for (const auto attr : node.attributes()) {
    const std::string_view attr_name = attr.name();
    std::string_view value = attr.value();
    if (!from.empty() && attr_name == "from") {
      if (from_written) continue;  // a duplicate: the override stands once
      value = from;
      from_written = true;
    } else if (!to.empty() && attr_name == "to") {
      if (to_written) continue;
      value = to;
      to_written = true;
    }
    append_attribute(out, attr_name, value);
  }
  if (!from_written) append_attribute(out, "from", from);
  if (!to_written) append_attribute(out, "to", to);
  if (!node.first_child()) {
    out.append("/>");
    return;
  }
  out.push_back('>');
  for (const auto child : node.children()) {
    if (child.type() == pugi::node_element)
      write_node(child, out);
    else if (is_text(child))
      append_escaped(out, child.value(), xml_context::text);
  }
  append_end_tag(out, name);
}

}  // namespace iotxmpp
