#include "core/xml/xml_element.hpp"

#include <array>

#include "core/base/utf8.hpp"

namespace iotxmpp {
namespace {

enum class context { text, attribute };

// What the writer does with each byte value. `copy` is by far the most common,
// so the hot loop only tests for it and leaves runs of such bytes to one append.
enum class byte_class : unsigned char { copy, escape, drop, multibyte };

constexpr std::array<byte_class, 256> byte_classes = [] {
  std::array<byte_class, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[c] = byte_class::drop;
  for (int c = 0x80; c < 0x100; ++c) t[c] = byte_class::multibyte;
  for (unsigned char c : {'&', '<', '>', '\'', '"', '\t', '\n', '\r'}) t[c] = byte_class::escape;
  return t;
}();

// The replacement of an `escape` byte; "" means "copy it as is".
std::string_view escape_of(char c, context where) {
  switch (c) {
    case '&':
      return "&amp;";
    case '<':
      return "&lt;";
    case '>':
      return "&gt;";
    case '\'':
      return "&apos;";
    case '"':
      return "&quot;";
    case '\r':
      return "&#13;";
    case '\t':
      return where == context::attribute ? "&#9;" : "";
    case '\n':
      return where == context::attribute ? "&#10;" : "";
    default:
      return "";
  }
}

void append_escaped(std::string& out, std::string_view s, context where) {
  std::size_t run = 0;  // start of the bytes not yet appended
  std::size_t i = 0;
  const auto flush = [&] { out.append(s.data() + run, i - run); };
  while (i < s.size()) {
    const char c = s[i];
    switch (byte_classes[static_cast<unsigned char>(c)]) {
      case byte_class::copy:
        ++i;
        break;
      case byte_class::escape:
        if (const auto e = escape_of(c, where); !e.empty()) {
          flush();
          out.append(e);
          run = ++i;
        } else {
          ++i;
        }
        break;
      case byte_class::drop:
        flush();
        run = ++i;
        break;
      case byte_class::multibyte: {
        const auto d = utf8::decode(s, i);
        if (d.length != 0 && d.code_point != 0xFFFE && d.code_point != 0xFFFF) {
          i += d.length;
        } else {
          flush();
          out.append(utf8::replacement);
          i += d.length != 0 ? d.length : 1;
          run = i;
        }
        break;
      }
    }
  }
  flush();
}

void append_attribute(std::string& out, std::string_view name, std::string_view value) {
  out.push_back(' ');
  out.append(name);
  out.append("='");
  append_escaped(out, value, context::attribute);
  out.push_back('\'');
}

void append_end_tag(std::string& out, std::string_view name) {
  out.append("</");
  out.append(name);
  out.push_back('>');
}

bool is_text(pugi::xml_node node) {
  return node.type() == pugi::node_pcdata || node.type() == pugi::node_cdata;
}

}  // namespace

void append_escaped(std::string& out, std::string_view text) {
  append_escaped(out, text, context::attribute);
}

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
  append_escaped(out, text_, context::text);
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
      append_escaped(out, child.value(), context::text);
  }
  append_end_tag(out, name);
}

}  // namespace iotxmpp
