#pragma once
// The framer's bounds on what one peer may make it hold, apart from the
// framer itself so that configuration structs carry them without pulling in
// the framer and pugixml.

#include <cstddef>

namespace iotxmpp {

struct framer_limits {
  std::size_t max_stanza_bytes = 64 * 1024;  // a top-level element as received on the wire
  std::size_t max_depth = 32;                // the stanza itself is depth 1
};

}  // namespace iotxmpp
