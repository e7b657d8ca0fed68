#pragma once
// What the server does with each stanza a bound client sends (PROTOCOL.md
// §3): one function per stanza kind. Pure: a handler takes the stanza, who
// sent it and a read-only context, and returns what to send, what to store,
// what to publish and what to change; it touches no socket, no writer and no
// shared state. The session carries the outcome out (ordering,
// back-pressure, acknowledgements, the device's row).

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <pugixml.hpp>

#include "core/iot/rules.hpp"
#include "core/model/model.hpp"
#include "core/server/registry.hpp"
#include "core/server/room_cache.hpp"
#include "core/server/server_config.hpp"
#include "core/store/store_writer.hpp"
#include "core/xml/conditions.hpp"
#include "core/xmpp/jid.hpp"

namespace iotxmpp {

// What handlers may read. Every member outlives the sessions.
struct handler_context {
  const server_config& config;
  const rules& recommendation_rules;
  const registry& online;
  const room_cache& rooms;
};

// What a handler knows about the session that sent the stanza.
struct sender_state {
  const jid& address;     // bound full JID: stamped as `from`
  std::string_view room;  // room of its latest report; empty before one
  // The rooms an account may report for and ask about (model/account.hpp
  // patterns); null for an anonymous device, which may use any room.
  const std::vector<std::string>* grants = nullptr;
};

// A recommendation whose room the cache does not hold: the session loads
// the room (room_cache::load) and answers with answer_recommend().
struct pending_recommend {
  std::string id;
  std::string room;
  // When its handling began, for iotxmpp_recommend_seconds (unset: not timed).
  std::chrono::steady_clock::time_point started{};
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
  std::vector<write_item> writes;  // for the store writer, in order
  // An accepted status report: remembered for recommendations, its device
  // row moved to its room, then stored (after `writes`).
  std::optional<status_report> report;
  // An availability change: stored as the device's row.
  std::optional<presence_update> presence;
  // Forward this stanza (valid until the framer's next event) on the live
  // feed to the followers of `publish_room`.
  pugi::xml_node publish;
  std::string publish_room;
  // A feed subscription change (PROTOCOL.md §3.4).
  enum class feed_change { none, subscribe, unsubscribe } subscription = feed_change::none;
  std::string subscription_room;
  // Set instead of a reply: the answer needs a room look-up first.
  std::optional<pending_recommend> awaits_room;
  std::optional<stream_condition> fatal;  // end the stream with this error
  std::string fatal_text;
};

// A top-level element after bind: routes by element name.
handled handle_stanza(pugi::xml_node stanza, const sender_state& sender,
                      const handler_context& context, sys_micros now);

handled handle_message(pugi::xml_node message, const sender_state& sender,
                       const handler_context& context, sys_micros now);
handled handle_presence(pugi::xml_node presence, const sender_state& sender,
                        const handler_context& context, sys_micros now);
handled handle_iq(pugi::xml_node iq, const sender_state& sender, const handler_context& context,
                  sys_micros now);

// The answer to a recommend request once the room's latest report is known
// (null: the room never reported): the result IQ and the recommendation's
// record.
handled answer_recommend(const pending_recommend& request, const status_report* latest,
                         const sender_state& sender, const handler_context& context,
                         sys_micros now);

}  // namespace iotxmpp
