#pragma once
// Values whose stored extra JSON (readings.extra, model/limits.hpp) has an
// exact size, for the tests of that limit.

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "core/model/limits.hpp"

namespace iotxmpp::test {

// Values named n0, n1, ... (none of them standard) whose stored extra JSON
// is exactly `bytes` long (at least 64): while far from it, values whose
// unit is `big_unit`; then ASCII units of at most 254 characters, so that
// no name or unit is over its own limit.
inline std::vector<reading_value> values_of_extra_size(std::size_t bytes,
                                                       std::string_view big_unit) {
  std::vector<reading_value> values;
  auto size = [&] {
    status_report r;
    r.values = values;
    return stored_extra_bytes(r);
  };
  const std::size_t big = 8 + 4 + 9 + 1 + 8 + big_unit.size() * 2 + 2 + 1 + 1;  // generous
  while (size() + big + 600 < bytes)
    values.push_back({"n" + std::to_string(values.size()), 1, std::string(big_unit)});
  while (size() < bytes) {
    values.push_back({"n" + std::to_string(values.size()), 1, "u"});
    const std::size_t rest = bytes - std::min(bytes, size());
    // Leave either nothing or room for one more whole value (under 64 bytes).
    values.back().unit +=
        std::string(rest <= 253 ? rest : std::min<std::size_t>(200, rest - 64), 'u');
  }
  return values;
}

}  // namespace iotxmpp::test
