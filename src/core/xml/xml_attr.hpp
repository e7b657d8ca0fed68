#pragma once
// Appending attributes to XML text being built by hand (payload writers).
// Values are escaped for a single-quoted attribute, matching the quoting of
// PROTOCOL.md's examples.

#include <string>
#include <string_view>

namespace iotxmpp {

// Appends ` name='value'`, the value escaped by append_escaped for an
// attribute (xml_escape.hpp: & < > ' " escaped; tab, LF, CR as character
// references so that attribute-value normalization keeps them; other control
// characters dropped; invalid UTF-8 replaced by U+FFFD).
// `name` is written as is: it must be a valid attribute name.
void append_attribute(std::string& out, std::string_view name, std::string_view value);

// Appends ` name='N'` where N is the shortest text that reads back as exactly
// `value` (21, 21.5, 0.1, 1e+21); never NaN or infinity by contract.
void append_attribute(std::string& out, std::string_view name, double value);

// The shortest round-trip text of a finite double (same form as above).
std::string format_number(double value);

}  // namespace iotxmpp
