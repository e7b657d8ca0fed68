#pragma once
// The recommend payload of PROTOCOL.md §3.3, written by the server and read
// by clients in one place so the two cannot drift apart:
//
//   <recommend xmlns='urn:iotxmpp:recommend:0' room='kitchen'
//              at='2026-11-24T08:00:03+01:00' period='morning'>
//     <target name='temperature' value='21' unit='°C' action='raise'/>
//   </recommend>

#include <string>
#include <string_view>

#include <pugixml.hpp>

#include "core/base/error.hpp"
#include "core/model/model.hpp"
#include "core/xml/xml_element.hpp"

namespace iotxmpp {

inline constexpr std::string_view recommend_namespace = "urn:iotxmpp:recommend:0";

// Appends the <recommend xmlns='urn:iotxmpp:recommend:0' room at period>
// element with one <target name value unit action/> per target, as in
// PROTOCOL.md §3.3; attributes escaped, numbers in shortest form (21, 21.5).
// `asked_by` is not written.
void write_recommend_payload(const recommendation& r, std::string& out);

// The room a recommend request asks about: the `room` attribute of its
// <recommend> payload, 1 to limits::room (255) characters (it is stored
// with the recommendation). On failure: error_kind::protocol, condition
// "bad-request", and "recommend needs a room" or "room is 300 characters;
// the limit is 255".
result<std::string_view> requested_room(pugi::xml_node recommend);

// Reads a <recommend> element (the payload itself, not the IQ around it):
// room, period, at, and its <target> children in order (other children are
// skipped); asked_by is left empty. Reads back exactly what
// write_recommend_payload wrote. Fails with error_kind::protocol on a bad
// `at`, or a target without a name or whose value is not a finite number.
result<recommendation> parse_recommend_payload(const xml_element& payload);

}  // namespace iotxmpp
