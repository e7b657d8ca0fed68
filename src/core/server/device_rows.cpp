#include "core/server/device_rows.hpp"

namespace iotxmpp {

write_item device_rows::bound(const std::string& jid, sys_micros at, steady::time_point now) {
  written_ = now;
  return device_touch{jid, {}, at, at};  // a bind: the row's node becomes the writer's
}

std::optional<write_item> device_rows::reported(const std::string& jid, std::string_view room,
                                                sys_micros at, steady::time_point now) {
  if (room == room_) return std::nullopt;
  room_ = room;
  written_ = now;
  return device_touch{jid, room_, at};
}

write_item device_rows::presence(presence_update update, steady::time_point now) {
  written_ = now;
  return update;
}

std::optional<write_item> device_rows::refresh(const std::string& jid, sys_micros heard_at,
                                               steady::time_point heard, steady::time_point now,
                                               std::chrono::milliseconds every) {
  if (!refresh_due(heard, now, every)) return std::nullopt;
  return device_touch{jid, room_, heard_at};
}

write_item device_rows::ended(const std::string& jid) const { return device_offline{jid}; }

}  // namespace iotxmpp
