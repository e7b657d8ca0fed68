#pragma once
// A device's availability presence (PROTOCOL.md §3.2) as the state the
// store keeps: online or not, and its <show> and <status>.

#include <string_view>

#include <pugixml.hpp>

#include "core/base/clock.hpp"
#include "core/base/error.hpp"
#include "core/model/model.hpp"

namespace iotxmpp {

// Reads an availability presence (no `type`: online; type='unavailable':
// offline; the caller routes every other type elsewhere). show and status
// are the text of the first <show> and <status> children, empty when
// absent, each at most limits::presence_text (65,535 bytes, the MySQL TEXT
// bound). On failure: error_kind::protocol, condition "bad-request", and a
// reason naming the field and the limit ("status is 70000 bytes; the limit
// is 65535"); nothing of the presence is to be kept.
result<presence_update> parse_presence_update(pugi::xml_node presence, std::string_view device_jid,
                                              sys_micros at);

}  // namespace iotxmpp
