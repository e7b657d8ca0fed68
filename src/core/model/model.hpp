#pragma once
// The domain records that flow from the protocol handlers to the store:
// status reports (readings), presence changes and recommendations. Plain
// values, no behaviour, so every layer can share them without coupling.

#include <optional>
#include <string>
#include <vector>

#include "core/base/clock.hpp"

namespace iotxmpp {

// A point in time as a room sees it: the instant plus the room's UTC offset
// (XEP-0082 DateTime with `Z` or `+hh:mm`). local clock = utc + offset.
struct local_time {
  sys_micros utc{};
  int offset_minutes = 0;
};

// One measured quantity of a status report (`numeric` of XEP-0323).
struct reading_value {
  std::string name;  // "temperature", "humidity", "brightness" or any other
  double value = 0;
  std::string unit;  // as sent; empty when the device left it out
};

// One accepted status report: a message carrying urn:xmpp:iot:sensordata.
// Identified by (room, stanza_id) when stanza_id is non-empty: a resend is
// stored once (PROTOCOL.md §3.1).
struct status_report {
  std::string device_jid;    // full JID the server stamped as `from`
  std::string room;          // nodeId
  std::string stanza_id;     // the message's id; empty when it had none
  local_time taken_at;       // the report's timestamp, room-local
  sys_micros received_at{};  // when the server accepted it
  std::vector<reading_value> values;

  // The value named `name`, if the report has it.
  std::optional<double> value_of(std::string_view name) const {
    for (const auto& v : values)
      if (v.name == name) return v.value;
    return std::nullopt;
  }
};

// A device's presence as last announced (PROTOCOL.md §3.2).
struct presence_update {
  std::string device_jid;
  bool online = true;
  std::string show;    // empty when absent
  std::string status;  // empty when absent
  sys_micros at{};
};

// One target of a recommendation (PROTOCOL.md §3.3).
struct recommendation_target {
  std::string name;  // temperature, humidity, brightness
  double value = 0;
  std::string unit;
  std::string action;  // raise, lower, hold, unknown
};

// A recommendation the server gave, as answered and as stored.
struct recommendation {
  std::string room;
  std::string asked_by;  // full JID of the asker
  local_time at;         // time of the answer in the room's offset
  std::string period;    // night, morning, day, evening, or a rules-file name
  std::vector<recommendation_target> targets;
};

// A row of the devices table.
struct device_row {
  std::string jid;
  std::string room;  // room of its latest report; empty before one
  sys_micros first_seen{};
  sys_micros last_update{};
  bool online = false;
  std::string show;
  std::string status;
  // The node whose session bound the device last (server_config::node_id);
  // empty when no node recorded one (rows from before schema v5, tools).
  std::string node;
};

}  // namespace iotxmpp
