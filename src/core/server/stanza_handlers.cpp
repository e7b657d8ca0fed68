#include "core/server/stanza_handlers.hpp"

#include "core/model/account.hpp"

#include <cstring>

#include "core/base/version.hpp"
#include "core/iot/presence.hpp"
#include "core/iot/recommend_payload.hpp"
#include "core/iot/sensordata.hpp"
#include "core/model/datetime.hpp"
#include "core/server/server_metrics.hpp"
#include "core/xml/xml_element.hpp"
#include "core/xmpp/namespaces.hpp"
#include "core/xmpp/stanza.hpp"

namespace iotxmpp {
namespace {

// A reply from the server's domain to the sender.
handled error_to(pugi::xml_node request, stanza_condition c, const sender_state& sender,
                 const handler_context& h, std::string_view text = {}) {
  handled out;
  out.reply = error_reply(request, c, h.config.domain, sender.address.to_string(), text).str();
  return out;
}

// Serializes `shell` (an element without children) with `payload` inside.
std::string with_payload(const xml_element& shell, std::string_view payload) {
  std::string s = shell.str();
  if (s.size() >= 2 && s.compare(s.size() - 2, 2, "/>") == 0)
    s.resize(s.size() - 2);
  else
    s.resize(s.size() - (shell.name().size() + 3));  // "</name>"
  s += '>';
  s += payload;
  s += "</";
  s += shell.name();
  s += '>';
  return s;
}

// True when a stanza is addressed to the server itself (or to no one).
bool to_server(pugi::xml_node stanza, const sender_state& sender, const handler_context& h) {
  std::string_view to = stanza.attribute("to").value();
  return to.empty() || to == h.config.domain || to == sender.address.bare_string() ||
         to == sender.address.to_string();
}

// The single element child of an IQ get/set, or an empty node when it has
// none or several (RFC 6120 §8.2.3: exactly one payload).
pugi::xml_node only_child(pugi::xml_node iq) {
  pugi::xml_node found;
  for (pugi::xml_node c = iq.first_child(); c; c = c.next_sibling()) {
    if (c.type() != pugi::node_element) continue;
    if (found) return {};
    found = c;
  }
  return found;
}

handled disco_info(std::string_view id, const sender_state& sender, const handler_context& h) {
  xml_element query("query");
  query.set("xmlns", ns::disco_info);
  query.add_child("identity").set("category", "server").set("type", "im").set("name", "iotxmpp");
  static constexpr std::string_view features[] = {
      ns::ping,      ns::disco_info, ns::disco_items, ns::version,
      ns::recommend, ns::feed,       ns::sensordata,  ns::sm,
  };
  for (auto f : features) query.add_child("feature").set("var", f);
  handled out;
  out.reply =
      iq_result(id, h.config.domain, sender.address.to_string()).add(std::move(query)).str();
  return out;
}

handled disco_items(std::string_view id, const sender_state& sender, const handler_context& h) {
  xml_element query("query");
  query.set("xmlns", ns::disco_items);
  // XEP-0030's `name` of an item: the room of the device's latest report;
  // and the node holding its session, in our namespace (PROTOCOL.md §3.4).
  query.set("xmlns:cluster", ns::cluster);
  for (const auto& device : h.online.online_devices()) {
    xml_element& item = query.add_child("item").set("jid", device.jid);
    if (!device.room.empty()) item.set("name", device.room);
    if (!device.node.empty()) item.set("cluster:node", device.node);
  }
  handled out;
  out.reply =
      iq_result(id, h.config.domain, sender.address.to_string()).add(std::move(query)).str();
  return out;
}

handled software_version(std::string_view id, const sender_state& sender,
                         const handler_context& h) {
  xml_element query("query");
  query.set("xmlns", ns::version);
  query.add_child("name").set_text("iotxmpp");
  query.add_child("version").set_text(version());
  handled out;
  out.reply =
      iq_result(id, h.config.domain, sender.address.to_string()).add(std::move(query)).str();
  return out;
}

handled recommend(pugi::xml_node iq, pugi::xml_node payload, const sender_state& sender,
                  const handler_context& h, sys_micros now) {
  auto room = requested_room(payload);
  if (!room) return error_to(iq, stanza_condition::bad_request, sender, h, room.error().message);
  if (sender.grants && !room_granted(*sender.grants, *room))
    return error_to(iq, stanza_condition::forbidden, sender, h,
                    "this account has no grant for room " + std::string(*room));
  pending_recommend request{iq.attribute("id").value(), std::string(*room),
                            std::chrono::steady_clock::now()};
  auto known = h.rooms.find(request.room);
  if (!known.known) {
    handled out;
    out.awaits_room = std::move(request);
    return out;
  }
  return answer_recommend(request, known.report ? &*known.report : nullptr, sender, h, now);
}

handled feed(pugi::xml_node iq, pugi::xml_node payload, const sender_state& sender,
             const handler_context& h) {
  std::string_view name = local_name(payload);
  handled out;
  if (name == "subscribe") {
    out.subscription = handled::feed_change::subscribe;
    out.subscription_room = payload.attribute("room").value();
  } else if (name == "unsubscribe") {
    out.subscription = handled::feed_change::unsubscribe;
  } else {
    return error_to(iq, stanza_condition::feature_not_implemented, sender, h);
  }
  out.reply =
      iq_result(iq.attribute("id").value(), h.config.domain, sender.address.to_string()).str();
  return out;
}

}  // namespace

handled answer_recommend(const pending_recommend& request, const status_report* latest,
                         const sender_state& sender, const handler_context& h, sys_micros now) {
  recommendation rec = h.recommendation_rules.recommend(request.room, sender.address.to_string(),
                                                        latest, now, local_offset_minutes(now));
  std::string payload_xml;
  write_recommend_payload(rec, payload_xml);
  handled out;
  out.reply =
      with_payload(iq_result(request.id, h.config.domain, sender.address.to_string()), payload_xml);
  out.writes.emplace_back(std::move(rec));
  if (request.started != std::chrono::steady_clock::time_point{})
    server_metrics().recommend_seconds.observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - request.started).count());
  return out;
}

handled handle_stanza(pugi::xml_node stanza, const sender_state& sender, const handler_context& h,
                      sys_micros now) {
  std::string_view name = local_name(stanza);
  std::string_view xmlns = stanza.attribute("xmlns").value();
  bool client_ns = xmlns.empty() || xmlns == ns::client;
  if (client_ns && name == "message") return handle_message(stanza, sender, h, now);
  if (client_ns && name == "presence") return handle_presence(stanza, sender, h, now);
  if (client_ns && name == "iq") return handle_iq(stanza, sender, h, now);
  handled out;
  // Stream management (urn:xmpp:sm:3) is the session's own
  // (stream_management.hpp): it never reaches the handlers.
  if (xmlns == ns::sasl || xmlns == ns::tls || name == "auth") {
    out.fatal = stream_condition::policy_violation;
    out.fatal_text = "negotiation is over";
    return out;
  }
  out.fatal = stream_condition::unsupported_stanza_type;
  out.fatal_text = "unexpected element <" + std::string(stanza.name()) + ">";
  return out;
}

handled handle_message(pugi::xml_node message, const sender_state& sender, const handler_context& h,
                       sys_micros now) {
  // Never answer an error with an error (RFC 6120 §8.3.1).
  if (std::strcmp(message.attribute("type").value(), "error") == 0) return {};
  if (!to_server(message, sender, h) || !is_status_report(message))
    return error_to(message, stanza_condition::service_unavailable, sender, h,
                    "this server takes status reports (urn:xmpp:iot:sensordata) only");
  const std::string& from = sender.address.to_string();
  auto report = parse_status_report(message, from, now);
  if (!report) {
    server_metrics().reports_malformed.add();
    return error_to(message, stanza_condition::bad_request, sender, h, report.error().message);
  }
  // Nothing of a report for a room the account was not granted is kept.
  if (sender.grants && !room_granted(*sender.grants, report->room)) {
    server_metrics().reports_forbidden.add();
    return error_to(message, stanza_condition::forbidden, sender, h,
                    "this account has no grant for room " + report->room);
  }

  handled out;
  out.publish = message;
  out.publish_room = report->room;
  out.report = std::move(*report);
  server_metrics().reports_accepted.add();
  return out;
}

handled handle_presence(pugi::xml_node presence, const sender_state& sender,
                        const handler_context& h, sys_micros now) {
  std::string_view type = presence.attribute("type").value();
  // Rosters and subscriptions are out of scope; directed presence is not
  // routed. Only broadcast availability changes the device's state.
  if ((type != "" && type != "unavailable") || !to_server(presence, sender, h)) return {};
  auto update = parse_presence_update(presence, sender.address.to_string(), now);
  if (!update)
    return error_to(presence, stanza_condition::bad_request, sender, h, update.error().message);
  handled out;
  out.publish = presence;
  out.publish_room = sender.room;
  out.presence = std::move(*update);
  return out;
}

handled handle_iq(pugi::xml_node iq, const sender_state& sender, const handler_context& h,
                  sys_micros now) {
  std::string_view type = iq.attribute("type").value();
  std::string_view id = iq.attribute("id").value();
  if (type == "result" || type == "error") return {};  // we asked nothing
  if (id.empty() || (type != "get" && type != "set"))
    return error_to(iq, stanza_condition::bad_request, sender, h,
                    "an IQ needs an id and a type of get, set, result or error");
  if (!to_server(iq, sender, h))
    return error_to(iq, stanza_condition::service_unavailable, sender, h,
                    "IQs to other entities are not routed");
  pugi::xml_node payload = only_child(iq);
  if (!payload)
    return error_to(iq, stanza_condition::bad_request, sender, h,
                    "an IQ get or set needs exactly one child");
  std::string_view xmlns = payload.attribute("xmlns").value();
  std::string_view name = local_name(payload);
  bool get = type == "get";

  if (xmlns == ns::ping && name == "ping" && get) {
    handled out;
    out.reply = iq_result(id, h.config.domain, sender.address.to_string()).str();
    out.reply_after_commit = true;
    out.reply_if_lost = error_reply(iq, stanza_condition::internal_server_error, h.config.domain,
                                    sender.address.to_string(),
                                    "an earlier stanza of this session could not be stored")
                            .str();
    return out;
  }
  if (xmlns == ns::disco_info && get) return disco_info(id, sender, h);
  if (xmlns == ns::disco_items && get) return disco_items(id, sender, h);
  if (xmlns == ns::version && get) return software_version(id, sender, h);
  if (xmlns == ns::recommend && name == "recommend" && get)
    return recommend(iq, payload, sender, h, now);
  if (xmlns == ns::feed && !get) return feed(iq, payload, sender, h);
  if (xmlns == ns::session && !get) {  // RFC 3921 session: a no-op kept for old clients
    handled out;
    out.reply = iq_result(id, h.config.domain, sender.address.to_string()).str();
    return out;
  }
  static constexpr std::string_view known[] = {ns::ping,    ns::disco_info, ns::disco_items,
                                               ns::version, ns::recommend,  ns::feed,
                                               ns::bind,    ns::session};
  for (auto k : known)
    if (xmlns == k) return error_to(iq, stanza_condition::feature_not_implemented, sender, h);
  return error_to(iq, stanza_condition::service_unavailable, sender, h);
}

}  // namespace iotxmpp
