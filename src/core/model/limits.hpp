#pragma once
// The bounds on every field a device sends that the server stores
// (PROTOCOL.md §4.1), in one place: the protocol layers check them when a
// stanza is parsed, before it is accepted, so that the database's own
// constraint is the second line and never the first.
//
// How each bound counts is how the database counts it:
// - characters (Unicode code points) for the columns that are VARCHAR(N)
//   under utf8mb4 in MySQL/MariaDB and TEXT with CHECK (length(x) <= N) in
//   SQLite: both count characters, not bytes;
// - bytes (of UTF-8) for the TEXT/BLOB-like columns (MySQL's TEXT holds at
//   most 65,535 bytes whatever the characters).
// Bounds marked "ours" are not the database's: they are smaller than what
// the column holds, chosen so that every accepted report also fits one
// multi-row INSERT (below).
//
// The schema (store/schema.cpp) is a list of migrations already applied to
// live databases, so its DDL keeps its literal numbers; a change of a bound
// the database enforces is a new migration and a change here.
// tests/core/limits_test.cpp holds the two equal against both engines: a
// value at each bound is stored, one past it is refused by the database.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "core/model/model.hpp"

namespace iotxmpp {

// A bound on a text field and what it counts.
struct text_limit {
  enum class measure { characters, bytes };
  std::size_t max = 0;
  measure in = measure::characters;
};

namespace limits {

// readings.room, devices.room, recommendations.room: VARCHAR(255); SQLite
// CHECK (length(room) BETWEEN 1 AND 255). A status report's nodeId and a
// recommend request's room.
inline constexpr text_limit room{255, text_limit::measure::characters};
// readings.stanza_id: VARCHAR(255); SQLite CHECK. A status report's `id`.
inline constexpr text_limit stanza_id{255, text_limit::measure::characters};
// devices.jid, readings.device_jid, recommendations.asked_by: VARCHAR(767);
// SQLite CHECK. The full JID a session binds (its resource is what a device
// chooses; the rest is its address or account and the domain).
inline constexpr text_limit full_jid{767, text_limit::measure::characters};
// recommendations.period: VARCHAR(64); SQLite CHECK. A rules file's period names.
inline constexpr text_limit period{64, text_limit::measure::characters};
// accounts.name: VARCHAR(64); SQLite CHECK. ASCII only (valid_account_name).
inline constexpr text_limit account_name{64, text_limit::measure::characters};
// account_grants.pattern: VARBINARY(1023); SQLite CHECK on a BLOB: bytes.
inline constexpr text_limit room_grant{1023, text_limit::measure::bytes};
// devices.presence_show and presence_status: TEXT in MySQL (65,535 bytes);
// SQLite would take more, and ours is the same on both.
inline constexpr text_limit presence_text{65535, text_limit::measure::bytes};

// Ours. A numeric's name and unit: a name is a column (the three standard
// ones) or goes, with any unit other than the implied one, into the
// readings.extra JSON; capped like a room.
inline constexpr text_limit value_name{255, text_limit::measure::characters};
inline constexpr text_limit value_unit{255, text_limit::measure::characters};
// Ours. Numeric values in one report.
inline constexpr std::size_t values_per_report = 64;
// Ours. readings.extra (MEDIUMTEXT in MySQL, 16 MiB) as stored: the JSON of
// stored_extra_bytes(). 8 KiB keeps a readings row under about 13.4 KB even
// with every other column at its bound in 4-byte characters (jid 3,068 B,
// room and stanza id 1,020 B each), so the store's 1000-row INSERT stays
// under MariaDB's default max_allowed_packet of 16 MiB.
inline constexpr text_limit extra{8192, text_limit::measure::bytes};

}  // namespace limits

// Characters (Unicode code points) in `utf8`, as MySQL's CHAR_LENGTH and
// SQLite's length() count them: the bytes that do not continue a sequence.
// Exact for valid UTF-8, which is all the XML parser lets through.
std::size_t count_characters(std::string_view utf8);

// The size of `text` in the unit of `limit`.
std::size_t measure(std::string_view text, text_limit limit);

// Whether `value` is within `limit`. Allocates nothing.
bool within(std::string_view value, text_limit limit);

// Why `value` is over `limit`, fit for a bad-request <text>:
// "nodeId is 300 characters; the limit is 255".
std::string over_limit_text(std::string_view field, std::string_view value, text_limit limit);

// nullopt when `value` is within `limit`; otherwise over_limit_text().
std::optional<std::string> over_limit(std::string_view field, std::string_view value,
                                      text_limit limit);

// The bytes the store writes to readings.extra for `report` (0 for NULL):
// the JSON of the values other than the first temperature, humidity and
// brightness, and of those three's units when not the implied ones. Mirrors
// report_to_columns (store/store_rows.cpp) without building the text;
// tests/core/limits_test.cpp holds the two equal. Allocates nothing.
std::size_t stored_extra_bytes(const status_report& report);

}  // namespace iotxmpp
