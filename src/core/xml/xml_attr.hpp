#pragma once
// Appending attributes to XML text being built by hand (payload writers).
// Values are escaped for a single-quoted attribute, matching the quoting of
// PROTOCOL.md's examples.

#include <string>
#include <string_view>

namespace iotxmpp {

// Appends ` name='value'`, with & < > ' " escaped and tab, LF, CR written as
// character references so that attribute-value normalization keeps them.
// `name` is written as is: it must be a valid attribute name.
void append_attribute(std::string& out, std::string_view name, std::string_view value);

// Appends ` name='N'` where N is the shortest text that reads back as exactly
// `value` (21, 21.5, 0.1, 1e+21); never NaN or infinity by contract.
void append_attribute(std::string& out, std::string_view name, double value);

// The shortest round-trip text of a finite double (same form as above).
std::string format_number(double value);

}  // namespace iotxmpp
