#pragma once
// The one author of a device's row in the devices table. Each session owns
// one; nothing else in the server makes device_touch or device_offline
// records (the reaper only deletes rows). The rules it keeps (PROTOCOL.md §5):
// - the row is made when the device binds: binding is hearing from it;
// - last_update moves only to an instant something was received from the
//   device (bind, a stanza), never to the time of a sweep or a disconnect;
// - the row follows the room of the device's latest report;
// - the end of a session marks the row offline without moving last_update,
//   and never makes a row: a reaped device stays removed.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "core/model/model.hpp"
#include "core/store/store_writer.hpp"

namespace iotxmpp {

class device_rows {
 public:
  using steady = std::chrono::steady_clock;

  // The device bound at `at`: its row is made or refreshed, online, and
  // held by the writer's node from `at` (device_touch::bound_at).
  write_item bound(const std::string& jid, sys_micros at, steady::time_point now);
  // A report for `room` was accepted at `at`: a touch that moves the row to
  // the room when it changed, else nothing (the periodic refresh follows).
  std::optional<write_item> reported(const std::string& jid, std::string_view room, sys_micros at,
                                     steady::time_point now);
  // The device announced its presence: the update, as the row's record.
  write_item presence(presence_update update, steady::time_point now);
  // Whether refresh() would make a record: something was heard since the
  // row's last record and `every` has passed since it. Two comparisons, so a
  // sweep over every session asks it before working out `heard_at`.
  bool refresh_due(steady::time_point heard, steady::time_point now,
                   std::chrono::milliseconds every) const {
    return heard > written_ && now - written_ >= every;
  }
  // Periodic: when something was heard since the row's last refresh and
  // `every` has passed, a touch with the instant last heard from.
  std::optional<write_item> refresh(const std::string& jid, sys_micros heard_at,
                                    steady::time_point heard, steady::time_point now,
                                    std::chrono::milliseconds every);
  // Call when refresh()'s record was queued.
  void refreshed(steady::time_point now) { written_ = now; }
  // The session ended: online = false, if the row still exists.
  write_item ended(const std::string& jid) const;

  // The room of the device's latest report; empty before one.
  const std::string& room() const { return room_; }

 private:
  std::string room_;
  steady::time_point written_{};  // when a record refreshing last_update was last made
};

}  // namespace iotxmpp
