#include "core/store/store_rows.hpp"

#include <charconv>
#include <cmath>
#include <unordered_set>

#include <nlohmann/json.hpp>

namespace iotxmpp {
namespace {

struct standard_quantity {
  std::string_view name;
  std::string_view implied_unit;  // PROTOCOL.md §3.1: implied when `unit` is absent
};
constexpr standard_quantity standard[] = {{"temperature",
                                           "\xC2\xB0"
                                           "C"},
                                          {"humidity", "%"},
                                          {"brightness", "lx"}};

// Hand-written rather than nlohmann: this runs for every stored report, and
// most reports need no JSON at all.
void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

void append_json_number(std::string& out, double v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, ec == std::errc{} ? end : buf);
}

std::unexpected<error> not_finite(std::string_view name) {
  return fail(error_kind::database, "value '" + std::string(name) + "' is not a finite number");
}

}  // namespace

result<report_columns> report_to_columns(const status_report& report) {
  report_columns cols;
  std::optional<double>* slots[] = {&cols.temperature, &cols.humidity, &cols.brightness};
  std::string units, other;
  for (const reading_value& v : report.values) {
    if (!std::isfinite(v.value)) return not_finite(v.name);
    int which = -1;
    for (int i = 0; i < 3; ++i)
      if (v.name == standard[i].name && !*slots[i]) which = i;
    if (which >= 0) {
      *slots[which] = v.value;
      if (v.unit != standard[which].implied_unit) {
        units += units.empty() ? '{' : ',';
        append_json_string(units, v.name);
        units += ':';
        append_json_string(units, v.unit);
      }
      continue;
    }
    other += other.empty() ? '[' : ',';
    other += "{\"name\":";
    append_json_string(other, v.name);
    other += ",\"value\":";
    append_json_number(other, v.value);
    if (!v.unit.empty()) {
      other += ",\"unit\":";
      append_json_string(other, v.unit);
    }
    other += '}';
  }
  if (units.empty() && other.empty()) return cols;
  cols.extra = "{";
  if (!units.empty()) cols.extra += "\"units\":" + units + "}";
  if (!other.empty())
    cols.extra += (units.empty() ? "" : ",") + std::string("\"other\":") + other + "]";
  cols.extra += '}';
  return cols;
}

std::vector<reading_value> columns_to_values(std::optional<double> temperature,
                                             std::optional<double> humidity,
                                             std::optional<double> brightness,
                                             std::string_view extra) {
  nlohmann::json j =
      extra.empty() ? nlohmann::json::object() : nlohmann::json::parse(extra, nullptr, false);
  if (!j.is_object()) j = nlohmann::json::object();
  const nlohmann::json* units =
      j.contains("units") && j["units"].is_object() ? &j["units"] : nullptr;

  std::vector<reading_value> values;
  const std::optional<double>* slots[] = {&temperature, &humidity, &brightness};
  for (int i = 0; i < 3; ++i) {
    if (!*slots[i]) continue;
    reading_value v{std::string(standard[i].name), **slots[i],
                    std::string(standard[i].implied_unit)};
    if (units) {
      auto it = units->find(v.name);
      if (it != units->end() && it->is_string()) v.unit = it->get<std::string>();
    }
    values.push_back(std::move(v));
  }
  if (j.contains("other") && j["other"].is_array()) {
    for (const auto& o : j["other"]) {
      if (!o.is_object() || !o.contains("name") || !o["name"].is_string() || !o.contains("value") ||
          !o["value"].is_number())
        continue;
      reading_value v{o["name"].get<std::string>(), o["value"].get<double>(), {}};
      if (o.contains("unit") && o["unit"].is_string()) v.unit = o["unit"].get<std::string>();
      values.push_back(std::move(v));
    }
  }
  return values;
}

result<std::string> targets_to_json(const std::vector<recommendation_target>& targets) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& t : targets) {
    if (!std::isfinite(t.value)) return not_finite(t.name);
    arr.push_back({{"name", t.name}, {"value", t.value}, {"unit", t.unit}, {"action", t.action}});
  }
  return arr.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::vector<recommendation_target> targets_from_json(std::string_view json) {
  std::vector<recommendation_target> out;
  if (json.empty()) return out;
  auto arr = nlohmann::json::parse(json, nullptr, false);
  if (!arr.is_array()) return out;
  for (const auto& o : arr) {
    if (!o.is_object()) continue;
    recommendation_target t;
    t.name = o.value("name", "");
    t.value = o.contains("value") && o["value"].is_number() ? o["value"].get<double>() : 0.0;
    t.unit = o.value("unit", "");
    t.action = o.value("action", "");
    out.push_back(std::move(t));
  }
  return out;
}

std::vector<std::size_t> statement_chunks(std::size_t rows, std::size_t max_rows) {
  std::vector<std::size_t> chunks;
  for (; rows >= max_rows; rows -= max_rows) chunks.push_back(max_rows);
  for (std::size_t bit = std::size_t{1} << 62; bit; bit >>= 1)
    if (rows & bit) chunks.push_back(bit);
  return chunks;
}

std::string multi_row_sql(std::string_view head, std::string_view row, std::size_t rows,
                          std::string_view tail) {
  std::string sql;
  sql.reserve(head.size() + 8 + rows * (row.size() + 1) + tail.size() + 1);
  sql += head;
  sql += " VALUES ";
  for (std::size_t i = 0; i < rows; ++i) {
    if (i) sql += ',';
    sql += row;
  }
  if (!tail.empty()) {
    sql += ' ';
    sql += tail;
  }
  return sql;
}

std::optional<account_event::what> account_event_kind(std::string_view name) {
  using what = account_event::what;
  for (what k : {what::disabled, what::removed, what::revoked, what::password})
    if (to_string(k) == name) return k;
  return std::nullopt;
}

std::optional<std::string> name_given_twice(const std::vector<account>& accounts) {
  std::unordered_set<std::string_view> seen;
  for (const account& a : accounts)
    if (!seen.insert(a.name).second) return "device " + a.name + " given twice";
  return std::nullopt;
}

std::vector<feed_ref> feed_events_of(const write_batch& batch) {
  if (batch.node.empty()) return {};
  if (!batch.feed_order.empty()) return batch.feed_order;
  std::vector<feed_ref> out;
  using what = feed_ref::what;
  for (std::size_t i = 0; i < batch.touches.size(); ++i)
    if (batch.touches[i].bound_at != sys_micros{})
      out.push_back({what::bind, static_cast<std::uint32_t>(i)});
  for (std::size_t i = 0; i < batch.presences.size(); ++i)
    out.push_back({what::presence, static_cast<std::uint32_t>(i)});
  for (std::size_t i = 0; i < batch.reports.size(); ++i)
    out.push_back({what::report, static_cast<std::uint32_t>(i)});
  return out;
}

feed_numbers number_feed(const write_batch& batch, const std::vector<feed_ref>& order,
                         std::int64_t first) {
  feed_numbers n;
  n.reports.assign(batch.reports.size(), 0);
  n.presences.assign(batch.presences.size(), 0);
  n.touches.assign(batch.touches.size(), 0);
  std::int64_t next = first;
  for (const feed_ref& ref : order) {
    auto& slots = ref.kind == feed_ref::what::report     ? n.reports
                  : ref.kind == feed_ref::what::presence ? n.presences
                                                         : n.touches;
    if (ref.index < slots.size()) slots[ref.index] = next;
    ++next;
  }
  return n;
}

std::string_view feed_kind_name(feed_ref::what kind) {
  switch (kind) {
    case feed_ref::what::report:
      return "report";
    case feed_ref::what::presence:
      return "presence";
    case feed_ref::what::bind:
      return "bind";
  }
  return "report";
}

std::optional<feed_ref::what> feed_kind(std::string_view name) {
  for (auto k : {feed_ref::what::report, feed_ref::what::presence, feed_ref::what::bind})
    if (feed_kind_name(k) == name) return k;
  return std::nullopt;
}

result<std::vector<report_columns>> reports_to_columns(const std::vector<status_report>& reports,
                                                       std::string_view where) {
  std::vector<report_columns> cols;
  cols.reserve(reports.size());
  for (const status_report& rep : reports) {
    auto c = report_to_columns(rep);
    if (!c)
      return fail(c.error().kind, std::string(where) + ": report '" + rep.stanza_id +
                                      "' from room '" + rep.room + "': " + c.error().message);
    cols.push_back(std::move(*c));
  }
  return cols;
}

result<std::vector<std::string>> recommendations_to_json(const std::vector<recommendation>& recs,
                                                         std::string_view where) {
  std::vector<std::string> targets;
  targets.reserve(recs.size());
  for (const recommendation& rec : recs) {
    auto t = targets_to_json(rec.targets);
    if (!t)
      return fail(t.error().kind, std::string(where) + ": recommendation for room '" + rec.room +
                                      "': " + t.error().message);
    targets.push_back(std::move(*t));
  }
  return targets;
}

}  // namespace iotxmpp
