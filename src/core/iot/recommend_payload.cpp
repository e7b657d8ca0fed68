#include "core/iot/recommend_payload.hpp"

#include <charconv>
#include <cmath>

#include "core/model/datetime.hpp"
#include "core/model/limits.hpp"
#include "core/xml/xml_attr.hpp"

namespace iotxmpp {
namespace {

std::string_view local_of(std::string_view name) {
  auto colon = name.find(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

}  // namespace

result<std::string_view> requested_room(pugi::xml_node recommend) {
  std::string_view room = recommend.attribute("room").value();
  if (room.empty()) return fail(error_kind::protocol, "recommend needs a room", "bad-request");
  if (auto why = over_limit("room", room, limits::room))
    return fail(error_kind::protocol, std::move(*why), "bad-request");
  return room;
}

void write_recommend_payload(const recommendation& r, std::string& out) {
  out += "<recommend";
  append_attribute(out, "xmlns", recommend_namespace);
  append_attribute(out, "room", r.room);
  append_attribute(out, "at", format_datetime(r.at));
  append_attribute(out, "period", r.period);
  if (r.targets.empty()) {
    out += "/>";
    return;
  }
  out += '>';
  for (const auto& t : r.targets) {
    out += "<target";
    append_attribute(out, "name", t.name);
    append_attribute(out, "value", t.value);
    append_attribute(out, "unit", t.unit);
    append_attribute(out, "action", t.action);
    out += "/>";
  }
  out += "</recommend>";
}

result<recommendation> parse_recommend_payload(const xml_element& payload) {
  recommendation r;
  r.room = payload.get("room");
  r.period = payload.get("period");
  auto at = parse_datetime(payload.get("at"));
  if (!at) return fail(error_kind::protocol, "recommend 'at': " + at.error().message);
  r.at = *at;
  for (const auto& t : payload.children()) {
    if (local_of(t.name()) != "target") continue;
    recommendation_target target;
    target.name = t.get("name");
    target.unit = t.get("unit");
    target.action = t.get("action");
    std::string_view value = t.get("value");
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), target.value);
    if (target.name.empty() || value.empty() || ec != std::errc() ||
        end != value.data() + value.size() || !std::isfinite(target.value))
      return fail(error_kind::protocol, "recommend target '" + target.name + "': bad value");
    r.targets.push_back(std::move(target));
  }
  return r;
}

}  // namespace iotxmpp
