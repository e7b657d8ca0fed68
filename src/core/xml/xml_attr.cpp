#include "core/xml/xml_attr.hpp"

#include <charconv>

#include "core/xml/xml_escape.hpp"

namespace iotxmpp {

void append_attribute(std::string& out, std::string_view name, std::string_view value) {
  out += ' ';
  out += name;
  out += "='";
  append_escaped(out, value, xml_context::attribute);
  out += '\'';
}

std::string format_number(double value) {
  char buf[32];  // shortest form of any double is at most 24 characters
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  return ec == std::errc{} ? std::string(buf, end) : std::string("0");
}

void append_attribute(std::string& out, std::string_view name, double value) {
  append_attribute(out, name, format_number(value));
}

}  // namespace iotxmpp
