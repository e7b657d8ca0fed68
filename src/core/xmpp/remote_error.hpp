#pragma once
// Reading the errors a server sends into `error`: stream errors (RFC 6120
// §4.9, the stream ends) and stanza errors (§8.3, the stream stays up).

#include <string_view>

#include <pugixml.hpp>

#include "core/base/error.hpp"

namespace iotxmpp {

// A <stream:error> element: kind remote, condition the name of its child in
// the streams namespace ("undefined-condition" when there is none), message
// "stream error: CONDITION" plus ": TEXT" when the server gave a <text>.
error stream_error_of(pugi::xml_node stream_error);

// A stanza of type='error': kind remote, condition the name of the condition
// element inside its <error> ("undefined-condition" when missing), message
// "NAME error: CONDITION" plus ": TEXT" when there is a <text>, NAME being
// the stanza's element name (iq, message, presence).
error stanza_error_of(pugi::xml_node stanza);

}  // namespace iotxmpp
