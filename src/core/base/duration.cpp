#include "core/base/duration.hpp"

#include <cstdint>
#include <limits>

namespace iotxmpp {
namespace {

struct unit {
  std::string_view name;
  std::int64_t micros;
};
// Longer names first so "ms" is not read as "m" followed by junk.
constexpr unit units[] = {{"ms", 1000}, {"h", 3'600'000'000}, {"m", 60'000'000}, {"s", 1'000'000}};

bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::unexpected<error> bad(std::string_view text, std::string why) {
  return fail(error_kind::usage, "bad duration '" + std::string(text) + "': " + why +
                                     " (e.g. 30s, 5m, 1h, 250ms, 1h30m, or plain seconds)");
}

}  // namespace

result<std::chrono::microseconds> parse_duration(std::string_view text) {
  if (text.empty()) return bad(text, "empty");
  constexpr std::int64_t max = std::numeric_limits<std::int64_t>::max();
  // A bare number is seconds.
  bool bare = text.find_first_not_of("0123456789") == std::string_view::npos;
  std::int64_t total = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    if (!is_digit(text[i])) {
      if (text[i] == '-') return bad(text, "negative durations are not allowed");
      return bad(text, "expected a number at '" + std::string(text.substr(i)) + "'");
    }
    std::int64_t n = 0;
    for (; i < text.size() && is_digit(text[i]); ++i) {
      if (n > (max - (text[i] - '0')) / 10) return bad(text, "too large");
      n = n * 10 + (text[i] - '0');
    }
    std::size_t start = i;
    while (i < text.size() && !is_digit(text[i])) ++i;
    std::string_view name = text.substr(start, i - start);
    if (bare) name = "s";
    if (name.empty()) return bad(text, "missing unit after " + std::to_string(n));
    const unit* u = nullptr;
    for (const unit& candidate : units)
      if (candidate.name == name) u = &candidate;
    if (!u) return bad(text, "unknown unit '" + std::string(name) + "' (use ms, s, m or h)");
    if (n > (max - total) / u->micros) return bad(text, "too large");
    total += n * u->micros;
  }
  return std::chrono::microseconds(total);
}

std::string format_duration(std::chrono::microseconds d) {
  std::int64_t ms = d.count() / 1000;
  if (ms == 0) return "0s";
  std::string out;
  for (const auto& [name, size] : {std::pair<const char*, std::int64_t>{"h", 3'600'000},
                                   {"m", 60'000},
                                   {"s", 1000},
                                   {"ms", 1}}) {
    if (ms >= size) {
      out += std::to_string(ms / size) + name;
      ms %= size;
    }
  }
  return out;
}

}  // namespace iotxmpp
