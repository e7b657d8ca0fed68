#pragma once
// Status reports on the wire: the XEP-0323 sensor-data payload of a
// `message` (PROTOCOL.md §3.1), parsed into a status_report and written back.
//
// Shape accepted: exactly one <fields xmlns='urn:xmpp:iot:sensordata'> child
// of the message, holding exactly one <node nodeId='ROOM'> (a report is about
// one room), holding exactly one <timestamp value='DateTime'> (a report has
// one taken_at), holding one or more <numeric name value [unit]/>. Several
// fields, node or timestamp elements make the report malformed rather than
// silently dropping data. Other XEP-0323 field kinds (boolean, string, int…)
// and elements of other namespaces are ignored. Element names are matched by
// local name and resolved namespace, so prefixed forms (sd:fields) work too.

#include <cstdint>
#include <string>
#include <string_view>

#include <pugixml.hpp>

#include "core/base/error.hpp"
#include "core/model/model.hpp"

namespace iotxmpp {

inline constexpr std::string_view sensordata_namespace = "urn:xmpp:iot:sensordata";

// The unit implied for a quantity sent without one: °C for temperature, % for
// humidity, lx for brightness, empty for any other name.
std::string_view default_unit(std::string_view quantity);

// True when `message` has a child element `fields` in the sensor-data
// namespace, i.e. the server should treat it as a status report (and answer a
// malformed one with bad-request).
bool is_status_report(pugi::xml_node message);

// Parses the status report carried by `message` (see the shape above).
// device_jid and received_at are copied in; stanza_id is the message's `id`
// (empty when absent); unit defaults per default_unit(); numeric values keep
// their document order. A value is an xs:double that must be finite:
// optional surrounding whitespace and a leading + are allowed; NaN, INF, hex,
// empty and trailing junk are not. A name given twice (compared exactly)
// makes the report malformed. Every field the store bounds is checked
// against model/limits.hpp before anything else is made of it: nodeId and
// id (characters), each name and unit (characters), the number of values,
// and the extra values as stored (bytes); the reason names the field and
// the limit, e.g. "nodeId is 300 characters; the limit is 255".
// On failure: error_kind::protocol, condition "bad-request", and a one-line
// reason fit for the error's <text>, e.g. "numeric 'humidity': value 'abc' is
// not a finite number". Quoted input is cut to 40 bytes.
result<status_report> parse_status_report(pugi::xml_node message, std::string_view device_jid,
                                          sys_micros received_at);

// Appends the <fields> payload for `report` (room, taken_at in its own
// offset, values with unit when non-empty, momentary='true'), with the given
// seqnr and done='true'. Attribute values are escaped; numbers are written
// in their shortest round-trip form. parse_status_report reads it back equal,
// except that an empty unit of a known quantity comes back as its default.
void write_status_fields(const status_report& report, std::uint64_t seqnr, std::string& out);

}  // namespace iotxmpp
