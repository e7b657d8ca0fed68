#include "core/iot/sensordata.hpp"

#include <charconv>
#include <cmath>

#include "core/model/datetime.hpp"
#include "core/model/limits.hpp"
#include "core/xml/xml_attr.hpp"

namespace iotxmpp {
namespace {

std::string_view local_name(pugi::xml_node e) {
  std::string_view name = e.name();
  auto colon = name.find(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

// The namespace URI of element `e`, found as pugixml does not: the nearest
// xmlns (or xmlns:prefix for a prefixed name) on `e` or an ancestor.
std::string_view namespace_of(pugi::xml_node e) {
  std::string_view name = e.name();
  auto colon = name.find(':');
  std::string attr = "xmlns";
  if (colon != std::string_view::npos) (attr += ':') += name.substr(0, colon);
  for (auto n = e; n && n.type() == pugi::node_element; n = n.parent())
    if (auto a = n.attribute(attr.c_str())) return a.value();
  return {};
}

// True when `c` is an element named `name` in the sensor-data namespace.
// Reports are parsed at full ingest rate: nothing here allocates.
bool is_sensordata(pugi::xml_node c, std::string_view name) {
  return c.type() == pugi::node_element && local_name(c) == name &&
         namespace_of(c) == sensordata_namespace;
}

// `text` in single quotes, cut at 40 bytes (on a UTF-8 boundary) so that a
// hostile value cannot bloat the error reply or the log.
std::string quoted(std::string_view text) {
  constexpr std::size_t limit = 40;
  std::string out = "'";
  if (text.size() <= limit) {
    out += text;
  } else {
    std::size_t cut = limit;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    out += text.substr(0, cut);
    out += "...";
  }
  out += '\'';
  return out;
}

std::unexpected<error> malformed(std::string reason) {
  return fail(error_kind::protocol, std::move(reason), "bad-request");
}

bool is_xml_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// An xs:double that is finite; nullopt otherwise.
std::optional<double> parse_finite(std::string_view text) {
  while (!text.empty() && is_xml_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_xml_space(text.back())) text.remove_suffix(1);
  // from_chars takes no leading '+', which xs:double allows; "+-1" stays bad.
  if (text.size() > 1 && text[0] == '+' && text[1] != '-') text.remove_prefix(1);
  double v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || !std::isfinite(v))
    return std::nullopt;
  return v;
}

// Returns the single element named `name` under `parent`, or the reason why not.
result<pugi::xml_node> exactly_one(pugi::xml_node parent, std::string_view name,
                                   std::string_view missing, std::string_view several) {
  pugi::xml_node found;
  for (auto c : parent.children()) {
    if (!is_sensordata(c, name)) continue;
    if (found) return malformed(std::string(several));
    found = c;
  }
  if (!found) return malformed(std::string(missing));
  return found;
}

result<reading_value> parse_numeric(pugi::xml_node numeric) {
  auto name = numeric.attribute("name");
  if (!name || *name.value() == '\0') return malformed("numeric without a name");
  // The field's name is built only on the error path: reports arrive at
  // full ingest rate.
  if (!within(name.value(), limits::value_name))
    return malformed(
        over_limit_text("numeric name " + quoted(name.value()), name.value(), limits::value_name));
  auto value = numeric.attribute("value");
  auto number = value ? parse_finite(value.value()) : std::nullopt;
  if (!number) {
    // Built only on the error path: reports arrive at full ingest rate.
    std::string why = "numeric ";
    why += quoted(name.value());
    if (value) {
      why += ": value ";
      why += quoted(value.value());
      why += " is not a finite number";
    } else {
      why += " has no value";
    }
    return malformed(why);
  }
  std::string unit = numeric.attribute("unit").value();
  if (!within(unit, limits::value_unit))
    return malformed(
        over_limit_text("unit of numeric " + quoted(name.value()), unit, limits::value_unit));
  if (unit.empty()) unit = default_unit(name.value());
  return reading_value{name.value(), *number, std::move(unit)};
}

}  // namespace

std::string_view default_unit(std::string_view quantity) {
  if (quantity == "temperature") return "°C";
  if (quantity == "humidity") return "%";
  if (quantity == "brightness") return "lx";
  return {};
}

bool is_status_report(pugi::xml_node message) {
  for (auto c : message.children())
    if (is_sensordata(c, "fields")) return true;
  return false;
}

result<status_report> parse_status_report(pugi::xml_node message, std::string_view device_jid,
                                          sys_micros received_at) {
  auto fields = exactly_one(message, "fields", "no urn:xmpp:iot:sensordata fields payload",
                            "more than one fields payload: a report carries one");
  if (!fields) return std::unexpected(fields.error());
  auto node = exactly_one(*fields, "node", "no node (the room) in fields",
                          "more than one node: a report carries one room");
  if (!node) return std::unexpected(node.error());
  auto node_id = node->attribute("nodeId");
  if (!node_id) return malformed("node without nodeId (the room)");
  if (*node_id.value() == '\0') return malformed("empty nodeId (the room)");
  if (auto why = over_limit("nodeId", node_id.value(), limits::room))
    return malformed(std::move(*why));
  std::string_view stanza_id = message.attribute("id").value();
  if (auto why = over_limit("id", stanza_id, limits::stanza_id)) return malformed(std::move(*why));
  auto stamp = exactly_one(*node, "timestamp", "no timestamp in node",
                           "more than one timestamp: a report carries one");
  if (!stamp) return std::unexpected(stamp.error());
  auto stamp_value = stamp->attribute("value");
  if (!stamp_value) return malformed("timestamp without value");
  auto taken_at = parse_datetime(stamp_value.value());
  if (!taken_at)
    return malformed("timestamp " + quoted(stamp_value.value()) + ": " + taken_at.error().message);

  status_report report;
  report.device_jid = device_jid;
  report.room = node_id.value();
  report.stanza_id = stanza_id;
  report.taken_at = *taken_at;
  report.received_at = received_at;
  report.values.reserve(3);  // the usual temperature, humidity, brightness
  for (auto numeric : stamp->children()) {
    if (!is_sensordata(numeric, "numeric")) continue;
    if (report.values.size() == limits::values_per_report) {
      // Counted only on this path: each is_sensordata() walks up for xmlns.
      std::size_t count = 0;
      for (auto n : stamp->children())
        if (is_sensordata(n, "numeric")) ++count;
      return malformed("the report has " + std::to_string(count) +
                       " numeric values; the limit is " +
                       std::to_string(limits::values_per_report));
    }
    auto value = parse_numeric(numeric);
    if (!value) return std::unexpected(value.error());
    // Quadratic, but over at most values_per_report short names, and it
    // allocates nothing (reports arrive at full ingest rate).
    for (const reading_value& earlier : report.values)
      if (earlier.name == value->name)
        return malformed("numeric " + quoted(value->name) +
                         " given twice; a report carries each name once");
    report.values.push_back(std::move(*value));
  }
  if (report.values.empty()) return malformed("no numeric value in timestamp");
  if (const std::size_t extra = stored_extra_bytes(report); extra > limits::extra.max)
    return malformed(
        "the extra values (names other than temperature, humidity and brightness, units other "
        "than the implied ones) are " +
        std::to_string(extra) + " bytes as stored; the limit is " +
        std::to_string(limits::extra.max));
  return report;
}

void write_status_fields(const status_report& report, std::uint64_t seqnr, std::string& out) {
  out += "<fields";
  append_attribute(out, "xmlns", sensordata_namespace);
  append_attribute(out, "seqnr", std::to_string(seqnr));
  append_attribute(out, "done", "true");
  out += "><node";
  append_attribute(out, "nodeId", report.room);
  out += "><timestamp";
  append_attribute(out, "value", format_datetime(report.taken_at));
  out += '>';
  for (const auto& v : report.values) {
    out += "<numeric";
    append_attribute(out, "name", v.name);
    append_attribute(out, "value", v.value);
    if (!v.unit.empty()) append_attribute(out, "unit", v.unit);
    append_attribute(out, "momentary", "true");
    out += "/>";
  }
  out += "</timestamp></node></fields>";
}

}  // namespace iotxmpp
