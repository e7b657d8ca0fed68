#pragma once
// What the server does with each stanza a bound client sends (PROTOCOL.md
// §3): one function per stanza kind. No sockets here: a handler takes the
// stanza, the sender's state and the hub, and returns what to send and what
// to store. The session carries it out (ordering, back-pressure, acks).

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <pugixml.hpp>

#include "core/xml/conditions.hpp"
#include "core/server/hub.hpp"
#include "core/xmpp/jid.hpp"
#include "core/store/store_writer.hpp"

namespace iotxmpp {

// What a handler knows about the session that sent the stanza.
struct sender_state {
  jid address;                 // bound full JID: stamped as `from`
  std::string room;            // room of its latest report; empty before one
  std::shared_ptr<peer> self;  // for feed subscriptions; may be null in tests
};

// The outcome of one stanza.
struct handled {
  std::string reply;  // bytes for the sender, in order (may be empty)
  // Send `reply` only once every write this session queued before this
  // stanza is committed: a ping answer then proves earlier reports are stored.
  bool reply_after_commit = false;
  // Sent instead of `reply` when a write queued before this stanza was
  // refused by the database: the answer must not vouch for a lost report.
  std::string reply_if_lost;
  std::vector<write_item> writes;         // for the store writer, in order
  std::optional<stream_condition> fatal;  // end the stream with this error
  std::string fatal_text;
};

// A top-level element after bind: routes by element name.
handled handle_stanza(pugi::xml_node stanza, sender_state& sender, hub& h, sys_micros now);

handled handle_message(pugi::xml_node message, sender_state& sender, hub& h, sys_micros now);
handled handle_presence(pugi::xml_node presence, sender_state& sender, hub& h, sys_micros now);
handled handle_iq(pugi::xml_node iq, sender_state& sender, hub& h, sys_micros now);

}  // namespace iotxmpp
