#pragma once
// The bytes the load generator sends: XMPP (iotxmpp, Prosody) and MQTT 3.1.1
// (Mosquitto), built ahead of the clock. Only what the scenarios need.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace loadgen {

// The client's stream header for `domain`.
std::string xmpp_stream_header(std::string_view domain);
std::string xmpp_auth_anonymous();
std::string xmpp_starttls();
// SASL <auth> with a mechanism and its initial response (bytes, base64'd
// here), and a <response> to a challenge.
std::string xmpp_auth(std::string_view mechanism, std::string_view initial);
std::string xmpp_sasl_response(std::string_view data);
std::string xmpp_bind(std::string_view id);
// XEP-0199 ping to the server; the reply carries `id`.
std::string xmpp_ping(std::string_view domain, std::string_view id);
// A recommend IQ (PROTOCOL.md §3.3) for `room`.
std::string xmpp_recommend(std::string_view domain, std::string_view id, std::string_view room);

// A status report in the shape of PROTOCOL.md §3.1 (three numerics, the
// default units implied), sent to `to`, padded with whitespace inside the
// message start tag to exactly `size` bytes when it is shorter.
std::string xmpp_report(std::string_view to, std::string_view id, std::uint64_t seqnr,
                        std::string_view room, std::size_t size);

// MQTT 3.1.1 packets.
// CONNECT; with a username (and then a password) when `username` is not empty.
std::string mqtt_connect(std::string_view client_id, std::string_view username = {},
                         std::string_view password = {});
// A PUBLISH; `packet_id` is used (and must be non-zero) when qos is 1.
std::string mqtt_publish(std::string_view topic, std::string_view payload, int qos,
                         std::uint16_t packet_id);
std::string mqtt_pingreq();
inline constexpr std::string_view mqtt_pingresp{"\xD0\x00", 2};
inline constexpr std::size_t mqtt_puback_size = 4;

}  // namespace loadgen
