#pragma once
// What a client says to the server and how its answers read (PROTOCOL.md
// §3): builders for the stanzas and IQ requests of the client subcommands,
// and parsers for the replies. No I/O: client.hpp sends and receives them.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <pugixml.hpp>

#include "core/base/error.hpp"
#include "core/model/model.hpp"
#include "core/xml/xml_element.hpp"

namespace iotxmpp {

// IQ requests to the server's `domain`. An empty `id` leaves it out
// (client::send_iq then adds one).
xml_element ping_request(std::string_view domain, std::string_view id = {});
xml_element recommend_request(std::string_view domain, std::string_view room);
xml_element disco_info_request(std::string_view domain);
xml_element disco_items_request(std::string_view domain);
xml_element version_request(std::string_view domain);
// The live feed; an empty room means every room.
xml_element subscribe_request(std::string_view domain, std::string_view room);
xml_element unsubscribe_request(std::string_view domain);

// The status report message of PROTOCOL.md §3.1 for `report` (room,
// taken_at, values; device_jid and received_at are not sent), to `domain`,
// with `id` (left out when empty) and `seqnr`.
std::string status_message(const status_report& report, std::string_view domain,
                           std::string_view id, std::uint64_t seqnr);

// <presence/> or <presence type='unavailable'/>, with <show> and <status>
// when non-empty.
std::string presence_stanza(bool available, std::string_view show, std::string_view status);

// The recommendation in a recommend result: its <recommend> child read by
// parse_recommend_payload (core/iot/recommend_payload.hpp; asked_by left
// empty). Fails with error_kind::protocol when the reply has no <recommend>,
// a bad `at`, or a target without a name or with a value that is not a number.
result<recommendation> parse_recommendation(const xml_element& reply);

// disco#items: the `jid` of each <item>, in order.
std::vector<std::string> parse_items(const xml_element& reply);

// An <item> of a disco#items reply. iotxmpp names a device's item by the
// room of its latest report, and gives the node holding its session in an
// attribute of urn:iotxmpp:cluster:0 (PROTOCOL.md §3.4).
struct disco_item {
  std::string jid;
  std::string name;  // empty when absent
  std::string node;  // empty when absent
};
// disco#items: each <item>, in order.
std::vector<disco_item> parse_disco_items(const xml_element& reply);

struct service_identity {
  std::string category, type, name;
};
struct service_info {
  std::vector<service_identity> identities;
  std::vector<std::string> features;
};
// disco#info: identities and feature vars, in order.
service_info parse_info(const xml_element& reply);

struct software_version {
  std::string name, version, os;  // empty when absent
};
software_version parse_version(const xml_element& reply);

// A feed event as the live feed forwards it (PROTOCOL.md §3.4).
struct feed_event {
  enum class kind { report, presence } what = kind::report;
  status_report report;      // kind::report: device_jid = the stanza's `from`
  presence_update presence;  // kind::presence
};
// Reads a forwarded message (a status report) or presence. `received_at`
// stamps it. Fails with error_kind::protocol for anything else or a report
// that does not parse.
result<feed_event> parse_feed_event(pugi::xml_node stanza, sys_micros received_at);

}  // namespace iotxmpp
