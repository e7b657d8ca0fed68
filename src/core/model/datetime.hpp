#pragma once
// XEP-0082 DateTime: the room-local timestamps of status reports and the `at`
// of recommendations. A time zone (`Z` or `±hh:mm`) is mandatory, because the
// offset is how the server learns each room's local time (PROTOCOL.md §3.1).

#include <string>
#include <string_view>

#include "core/base/error.hpp"
#include "core/model/model.hpp"

namespace iotxmpp {

// Parses `CCYY-MM-DDThh:mm:ss[.s…]TZD`, TZD being `Z` or `±hh:mm`, and
// returns the instant with its offset. Strict: `T` and `Z` upper case, four
// year digits, no surrounding space, hour 00-23 (no 24:00), second 00-59 (no
// leap second), the day must exist in that month (2024-02-29 yes, 2023-02-29
// no), offset at most ±14:00 with minutes below 60 (`-00:00` reads as `Z`).
// Fraction digits beyond microseconds are truncated, not rounded. On failure:
// error_kind::protocol with a short reason that does not repeat `text`.
result<local_time> parse_datetime(std::string_view text);

// Writes `t` in its own offset: `2026-11-24T08:00:03+01:00`, `Z` for offset 0.
// No fraction when the instant is a whole second; otherwise a `.` and the
// microseconds with trailing zeros removed (`.5`, `.000123`). What this writes
// for a year 0000-9999 is accepted by parse_datetime and reads back equal.
std::string format_datetime(const local_time& t);

// The UTC offset, in minutes, of this machine's local zone (TZ) at instant `at`.
int local_offset_minutes(sys_micros at);

// Minutes since local midnight (0..1439) of `t` on its own clock (utc + offset).
int local_minute_of_day(const local_time& t);

}  // namespace iotxmpp
