#include "core/client/queries.hpp"

#include "core/iot/recommend_payload.hpp"
#include "core/iot/sensordata.hpp"
#include "core/xmpp/namespaces.hpp"
#include "core/xmpp/stanza.hpp"

namespace iotxmpp {
namespace {

xml_element request(std::string_view type, std::string_view domain, std::string_view id,
                    std::string_view child, std::string_view xmlns) {
  xml_element out = iq(type, id, domain);
  out.add_child(std::string(child)).set("xmlns", xmlns);
  return out;
}

std::string_view local_of(std::string_view name) {
  auto colon = name.find(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

// The first child named `name` (by local name), or null.
const xml_element* child_named(const xml_element& parent, std::string_view name) {
  for (const auto& c : parent.children())
    if (local_of(c.name()) == name) return &c;
  return nullptr;
}

}  // namespace

xml_element ping_request(std::string_view domain, std::string_view id) {
  return request("get", domain, id, "ping", ns::ping);
}

xml_element recommend_request(std::string_view domain, std::string_view room) {
  xml_element out = iq("get", {}, domain);
  out.add_child("recommend").set("xmlns", ns::recommend).set("room", room);
  return out;
}

xml_element disco_info_request(std::string_view domain) {
  return request("get", domain, {}, "query", ns::disco_info);
}

xml_element disco_items_request(std::string_view domain) {
  return request("get", domain, {}, "query", ns::disco_items);
}

xml_element version_request(std::string_view domain) {
  return request("get", domain, {}, "query", ns::version);
}

xml_element subscribe_request(std::string_view domain, std::string_view room) {
  xml_element out = iq("set", {}, domain);
  xml_element& s = out.add_child("subscribe").set("xmlns", ns::feed);
  if (!room.empty()) s.set("room", room);
  return out;
}

xml_element unsubscribe_request(std::string_view domain) {
  return request("set", domain, {}, "unsubscribe", ns::feed);
}

std::string status_message(const status_report& report, std::string_view domain,
                           std::string_view id, std::uint64_t seqnr) {
  std::string out = message(domain, id).str();
  out.resize(out.size() - 2);  // "/>": the builder wrote an empty element
  out += '>';
  write_status_fields(report, seqnr, out);
  out += "</message>";
  return out;
}

std::string presence_stanza(bool available, std::string_view show, std::string_view status) {
  xml_element p = presence(available ? "" : "unavailable");
  if (!show.empty()) p.add_child("show").set_text(show);
  if (!status.empty()) p.add_child("status").set_text(status);
  return p.str();
}

result<recommendation> parse_recommendation(const xml_element& reply) {
  const xml_element* payload = child_named(reply, "recommend");
  if (!payload) return fail(error_kind::protocol, "the reply has no <recommend>");
  return parse_recommend_payload(*payload);
}

std::vector<std::string> parse_items(const xml_element& reply) {
  std::vector<std::string> out;
  if (const xml_element* query = child_named(reply, "query"))
    for (const auto& item : query->children())
      if (local_of(item.name()) == "item") out.emplace_back(item.get("jid"));
  return out;
}

std::vector<disco_item> parse_disco_items(const xml_element& reply) {
  std::vector<disco_item> out;
  const xml_element* query = child_named(reply, "query");
  if (!query) return out;
  // The node attribute is qualified by whatever prefix the reply declares
  // for urn:iotxmpp:cluster:0 on the query.
  std::string node_attr;
  for (const auto& [name, value] : query->attributes())
    if (name.starts_with("xmlns:") && value == ns::cluster) node_attr = name.substr(6) + ":node";
  for (const auto& item : query->children())
    if (local_of(item.name()) == "item")
      out.push_back({std::string(item.get("jid")), std::string(item.get("name")),
                     node_attr.empty() ? std::string() : std::string(item.get(node_attr))});
  return out;
}

service_info parse_info(const xml_element& reply) {
  service_info out;
  const xml_element* query = child_named(reply, "query");
  if (!query) return out;
  for (const auto& c : query->children()) {
    if (local_of(c.name()) == "identity")
      out.identities.push_back(
          {std::string(c.get("category")), std::string(c.get("type")), std::string(c.get("name"))});
    else if (local_of(c.name()) == "feature")
      out.features.emplace_back(c.get("var"));
  }
  return out;
}

software_version parse_version(const xml_element& reply) {
  software_version out;
  if (const xml_element* query = child_named(reply, "query")) {
    if (auto* n = child_named(*query, "name")) out.name = n->text();
    if (auto* v = child_named(*query, "version")) out.version = v->text();
    if (auto* o = child_named(*query, "os")) out.os = o->text();
  }
  return out;
}

result<feed_event> parse_feed_event(pugi::xml_node stanza, sys_micros received_at) {
  std::string_view name = local_name(stanza);
  std::string from = stanza.attribute("from").value();
  feed_event event;
  if (name == "message" && is_status_report(stanza)) {
    auto report = parse_status_report(stanza, from, received_at);
    if (!report) return std::unexpected(report.error());
    event.what = feed_event::kind::report;
    event.report = std::move(*report);
    return event;
  }
  if (name == "presence") {
    std::string_view type = stanza.attribute("type").value();
    event.what = feed_event::kind::presence;
    event.presence.device_jid = std::move(from);
    event.presence.online = type != "unavailable";
    event.presence.show = stanza.child_value("show");
    event.presence.status = stanza.child_value("status");
    event.presence.at = received_at;
    return event;
  }
  return fail(error_kind::protocol, "not a feed event: <" + std::string(stanza.name()) + ">");
}

}  // namespace iotxmpp
