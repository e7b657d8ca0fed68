#pragma once
// Small builders of store records for the store and writer tests.

#include <string>

#include "core/model/model.hpp"

namespace iotxmpp::test {

// An instant `seconds` after a fixed 2026 base, so tests read in seconds.
inline sys_micros micros_at(long long seconds) {
  return sys_micros(std::chrono::microseconds((1'790'000'000LL + seconds) * 1'000'000));
}

// A report of the three standard values from `jid` in `room`, taken at `at`.
inline status_report make_report(std::string room, std::string stanza_id, sys_micros at,
                                 std::string jid = "dev@iot.local/r1") {
  status_report r;
  r.device_jid = std::move(jid);
  r.room = std::move(room);
  r.stanza_id = std::move(stanza_id);
  r.taken_at = {at, 60};
  r.received_at = at + std::chrono::milliseconds(3);
  r.values = {{"temperature", 21.5,
               "\xC2\xB0"
               "C"},
              {"humidity", 40, "%"},
              {"brightness", 300, "lx"}};
  return r;
}

inline recommendation make_recommendation(std::string room, sys_micros at) {
  recommendation r;
  r.room = std::move(room);
  r.asked_by = "admin@iot.local/cli";
  r.at = {at, 60};
  r.period = "day";
  r.targets = {{"temperature", 21,
                "\xC2\xB0"
                "C",
                "raise"},
               {"humidity", 45, "%", "hold"}};
  return r;
}

}  // namespace iotxmpp::test
