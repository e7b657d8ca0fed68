#pragma once
// Durations as people type them on a command line or in a config file:
// "250ms", "30s", "5m", "1h", a sum such as "1h30m", or plain seconds ("90").

#include <chrono>
#include <string>
#include <string_view>

#include "core/base/error.hpp"

namespace iotxmpp {

// Parses `text`: one or more <integer><unit> terms with units ms, s, m, h
// (no spaces), or a bare integer meaning seconds. error_kind::usage saying
// exactly what is wrong (empty, a missing number, an unknown unit, too large).
result<std::chrono::microseconds> parse_duration(std::string_view text);

// The shortest text parse_duration reads back as `d` ("5m", "1h30m", "250ms",
// "0s"), rounded down to milliseconds.
std::string format_duration(std::chrono::microseconds d);

}  // namespace iotxmpp
