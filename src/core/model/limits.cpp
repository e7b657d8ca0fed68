#include "core/model/limits.hpp"

#include <charconv>

namespace iotxmpp {
namespace {

struct standard_quantity {
  std::string_view name;
  std::string_view implied_unit;
};
// As store_rows.cpp has them (PROTOCOL.md §3.1: implied when `unit` is absent).
constexpr standard_quantity standard[] = {{"temperature",
                                           "\xC2\xB0"
                                           "C"},
                                          {"humidity", "%"},
                                          {"brightness", "lx"}};

// The length of `s` as a JSON string, quotes included, escaped as
// store_rows.cpp's append_json_string escapes it.
std::size_t json_string_bytes(std::string_view s) {
  std::size_t n = 2;
  for (char c : s) {
    switch (c) {
      case '"':
      case '\\':
      case '\n':
      case '\r':
      case '\t':
        n += 2;
        break;
      default:
        n += static_cast<unsigned char>(c) < 0x20 ? 6 : 1;
    }
  }
  return n;
}

// The length of `v` in its shortest round-trip form (std::to_chars).
std::size_t json_number_bytes(double v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc{} ? static_cast<std::size_t>(end - buf) : 0;
}

std::string_view unit_word(text_limit limit) {
  return limit.in == text_limit::measure::characters ? "characters" : "bytes";
}

}  // namespace

std::size_t count_characters(std::string_view utf8) {
  std::size_t n = 0;
  for (char c : utf8)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  return n;
}

std::size_t measure(std::string_view text, text_limit limit) {
  return limit.in == text_limit::measure::bytes ? text.size() : count_characters(text);
}

bool within(std::string_view value, text_limit limit) {
  // Bytes bound characters from above: most values are decided without
  // walking them.
  return value.size() <= limit.max || measure(value, limit) <= limit.max;
}

std::string over_limit_text(std::string_view field, std::string_view value, text_limit limit) {
  std::string why(field);
  why += " is ";
  why += std::to_string(measure(value, limit));
  why += ' ';
  why += unit_word(limit);
  why += "; the limit is ";
  why += std::to_string(limit.max);
  return why;
}

std::optional<std::string> over_limit(std::string_view field, std::string_view value,
                                      text_limit limit) {
  if (within(value, limit)) return std::nullopt;
  return over_limit_text(field, value, limit);
}

std::size_t stored_extra_bytes(const status_report& report) {
  bool filled[3] = {false, false, false};
  std::size_t units = 0, unit_entries = 0;   // {"name":"unit",...} without braces
  std::size_t other = 0, other_entries = 0;  // {...},{...} without brackets
  for (const reading_value& v : report.values) {
    int which = -1;
    for (int i = 0; i < 3; ++i)
      if (v.name == standard[i].name && !filled[i]) which = i;
    if (which >= 0) {
      filled[which] = true;
      if (v.unit != standard[which].implied_unit) {
        units += json_string_bytes(v.name) + 1 + json_string_bytes(v.unit);
        ++unit_entries;
      }
      continue;
    }
    // {"name":NAME,"value":NUMBER[,"unit":UNIT]}
    other += 8 + json_string_bytes(v.name) + 9 + json_number_bytes(v.value) + 1;
    if (!v.unit.empty()) other += 8 + json_string_bytes(v.unit);
    ++other_entries;
  }
  if (unit_entries == 0 && other_entries == 0) return 0;
  std::size_t n = 2;  // {}
  // "units":{...}
  if (unit_entries) n += 8 + 2 + units + (unit_entries - 1);
  if (unit_entries && other_entries) n += 1;
  // "other":[...]
  if (other_entries) n += 8 + 2 + other + (other_entries - 1);
  return n;
}

}  // namespace iotxmpp
