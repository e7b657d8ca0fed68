#pragma once
// Recommendation rules (PROTOCOL.md §3.3): the day split into periods in a
// room's local time, each with a target and a tolerance per quantity, and the
// recommendation they give for a room's latest report.

#include <string>
#include <string_view>
#include <vector>

#include "core/base/error.hpp"
#include "core/iot/recommend_payload.hpp"  // what a recommendation is written as
#include "core/model/model.hpp"

namespace iotxmpp {

// What a period aims for in one quantity: hold when |reading - target| <= tolerance.
struct quantity_rule {
  std::string name;  // temperature, humidity, brightness or any reported name
  double target = 0;
  double tolerance = 0;  // >= 0
  std::string unit;
  friend bool operator==(const quantity_rule&, const quantity_rule&) = default;
};

// A period of the day, in force from start_minute (local minutes since
// midnight) until the next period's start, wrapping around midnight.
struct period_rule {
  std::string name;
  int start_minute = 0;                   // 0..1439
  std::vector<quantity_rule> quantities;  // in the order answered
  friend bool operator==(const period_rule&, const period_rule&) = default;
};

// An immutable, valid rule set: at least one period, unique names and start
// times. Cheap to copy; safe to share between threads for reading.
class rules {
 public:
  // The built-in rules, also written out as examples/rules.json:
  //   night   22:00  temperature 18±1 °C, humidity 45±10 %, brightness   0±20 lx
  //   morning 06:00  temperature 21±1 °C, humidity 45±10 %, brightness 300±100 lx
  //   day     09:00  temperature 21±1 °C, humidity 45±10 %, brightness 500±150 lx
  //   evening 18:00  temperature 21±1 °C, humidity 45±10 %, brightness 200±100 lx
  static rules defaults();

  // Reads rules from JSON text (comments allowed, duplicate keys are errors):
  //   {"periods": [{"name": "night", "start": "22:00",
  //                 "targets": {"temperature": {"value": 18, "tolerance": 1, "unit": "°C"},
  //                             ...}}, ...]}
  // `unit` is optional (default_unit() of the name); targets answer in file
  // order; periods may come in any order. Unknown keys are errors, so typos do
  // not pass silently. On failure error_kind::usage whose message names
  // `source_name`, the key path and what was expected, e.g.
  //   rules.json: periods[2].targets.humidity.tolerance: expected a non-negative number, got "x"
  //   rules.json:3:7: invalid JSON: syntax error while parsing ...
  static result<rules> from_json_text(std::string_view text, std::string_view source_name);

  // Reads the file at `path` as from_json_text, naming it by `path`; an
  // unreadable file gives error_kind::usage "cannot read PATH: reason".
  static result<rules> from_file(const std::string& path);

  // The periods sorted by start_minute; never empty.
  const std::vector<period_rule>& periods() const { return periods_; }

  // The period in force at `minute_of_day` (taken modulo 1440): the last one
  // starting at or before it, or the last of the day before the first start.
  const period_rule& period_at(int minute_of_day) const;

  // The recommendation for `room` asked by `asker` at instant `now`.
  // With `latest` (the room's latest report): `at` is now in that report's
  // offset, the period is the one in force at that local time, and each
  // target's action compares with the report's reading of that quantity:
  // hold when |reading - target| <= tolerance (plus a relative 1e-9 so that
  // decimal readings on the boundary hold), raise when below, lower when
  // above, unknown when the report lacks it.
  // Without `latest` (unknown room): `at` is now at server_offset_minutes and
  // every action is unknown.
  recommendation recommend(std::string_view room, std::string_view asker,
                           const status_report* latest, sys_micros now,
                           int server_offset_minutes) const;

  // The rules in the JSON form from_json_text reads (2-space indent, periods
  // sorted by start, integral numbers without ".0"); reads back equal.
  std::string to_json() const;

  friend bool operator==(const rules&, const rules&) = default;

 private:
  explicit rules(std::vector<period_rule> periods);
  std::vector<period_rule> periods_;
};

}  // namespace iotxmpp
