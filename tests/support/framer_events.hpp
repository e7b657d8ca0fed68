#pragma once
// Drives a stream_framer the way a session does (feed, drop what was
// consumed, feed the rest) and records its events as text, so that tests and
// the fuzz target can compare runs over differently split input.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/xml/stream_framer.hpp"

namespace iotxmpp::test {

// The header a client sends first (PROTOCOL.md §1), with a declaration.
inline constexpr std::string_view client_header =
    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
    "xmlns:stream='http://etherx.jabber.org/streams' to='iot.local' version='1.0'>";

// The XEP-0323 status report of PROTOCOL.md §3.1 (about 300 bytes once the
// indentation is gone).
std::string status_report(std::uint64_t seqnr);

// Events, one string each:
//   "open NAME a=v a=v"     the header, attributes as decoded
//   "element N XML"         N raw bytes; XML as pugixml prints it (raw)
//   "close"
//   "error CONDITION: TEXT" (the last one; feeding stops there)
using events = std::vector<std::string>;

// Feeds the chunks in order, each until it is used up or an error occurs, and
// calls trim() after each chunk, as a session does after each read.
// Checks the framer's promises on the way (consumed within the input, need_more
// only when all was consumed, buffered capacity within the limit) and records
// a broken promise as an event starting with "BROKEN".
events frame_chunks(stream_framer& framer, const std::vector<std::string_view>& chunks);

// The stream cut at the given ascending offsets.
events frame_cut(std::string_view stream, const std::vector<std::size_t>& cuts,
                 framer_limits limits = {});
events frame_whole(std::string_view stream, framer_limits limits = {});
events frame_bytewise(std::string_view stream, framer_limits limits = {});

// The last event of the whole stream fed at once, e.g. "error not-well-formed: ...".
std::string last_event(std::string_view stream, framer_limits limits = {});

}  // namespace iotxmpp::test
