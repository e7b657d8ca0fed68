#pragma once
// A small owning element tree for building outgoing XML, and the writer that
// serializes it (or a parsed pugixml node) straight into a string.
//
// Output rules, shared by xml_element::write and write_node:
// - attribute values go in single quotes;
// - in attribute values and character data, & < > ' " are written as the five
//   predefined entities; in attribute values tab, LF and CR become character
//   references (so attribute-value normalization cannot change them), in
//   character data only CR does (so line-end normalization cannot);
// - characters XML 1.0 does not allow are dropped silently (C0 controls other
//   than tab, LF, CR); bytes that are not valid UTF-8, and U+FFFE / U+FFFF,
//   become U+FFFD, so the output is well-formed whatever bytes came in;
// - element and attribute names are written as given: callers pass valid
//   XML names (constants, or names pugixml parsed);
// - an element with neither text nor children is written as <x/>.

#include <pugixml.hpp>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/xml/xml_escape.hpp"  // the builder's users write raw XML with append_escaped

namespace iotxmpp {

class xml_element {
 public:
  explicit xml_element(std::string name) : name_(std::move(name)) {}

  // Adds the attribute, or replaces its value when it is already there.
  xml_element& set(std::string_view attr, std::string_view value);
  // The attribute's value; "" when absent.
  std::string_view get(std::string_view attr) const;

  // Appends `child`; returns *this for chaining.
  xml_element& add(xml_element child);
  // Appends an empty child named `name` and returns it. The reference is
  // valid until the next child is added to this element.
  xml_element& add_child(std::string name);

  // Sets the character data, written (escaped) before any child.
  xml_element& set_text(std::string_view text);

  const std::string& name() const { return name_; }
  const std::string& text() const { return text_; }
  const std::vector<xml_element>& children() const { return children_; }
  const std::vector<std::pair<std::string, std::string>>& attributes() const { return attributes_; }

  // Appends the serialized element to `out` (see the output rules above).
  void write(std::string& out) const;
  // The serialized element.
  std::string str() const;

  // A deep copy of a parsed element: name, attributes in order, child
  // elements, and its text and CDATA children concatenated in order as text
  // (so in mixed content the text moves before the children). Comments and
  // processing instructions are left out. A document node is taken as its
  // document element.
  static xml_element from(pugi::xml_node node);

 private:
  std::string name_;
  std::string text_;
  std::vector<std::pair<std::string, std::string>> attributes_;
  std::vector<xml_element> children_;
};

// Appends a parsed element to `out` as it stands (no copy into an
// xml_element), keeping the order of text and children; CDATA is written as
// escaped text, comments and processing instructions are left out. On the top
// element only, a non-empty `from` or `to` replaces that attribute's value in
// place, or is added after the others when absent.
void write_node(pugi::xml_node node, std::string& out, std::string_view from = {},
                std::string_view to = {});

}  // namespace iotxmpp
