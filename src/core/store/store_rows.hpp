#pragma once
// How domain records map to table rows, shared by the SQLite and MySQL
// stores: a report's three standard quantities get columns, everything else
// (other values, units other than the implied ones) goes to a compact JSON
// text; a recommendation's targets are a JSON array.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/clock.hpp"
#include "core/base/error.hpp"
#include "core/model/account.hpp"
#include "core/model/model.hpp"
#include "core/store/store.hpp"

namespace iotxmpp {

// Both engines store a time as whole microseconds since the epoch (UTC).
inline std::int64_t to_micros(sys_micros t) { return t.time_since_epoch().count(); }
inline sys_micros from_micros(std::int64_t v) { return sys_micros(std::chrono::microseconds(v)); }

// The stored form of one report's values.
struct report_columns {
  std::optional<double> temperature, humidity, brightness;  // NULL when absent
  std::string extra;  // JSON, or empty for NULL (the common case: nothing extra)
};

// Splits a report's values into columns. The first value of a standard
// name fills its column; later ones with that name are kept in `extra`.
// error_kind::database when a value is not finite: no engine stores NaN or
// infinity faithfully, so both refuse the report alike.
result<report_columns> report_to_columns(const status_report& report);

// The inverse of report_to_columns: temperature, humidity, brightness (those
// present), then the others in their original order, each with its unit as
// sent. A malformed `extra` (not written by us) yields only the columns.
std::vector<reading_value> columns_to_values(std::optional<double> temperature,
                                             std::optional<double> humidity,
                                             std::optional<double> brightness,
                                             std::string_view extra);

// report_to_columns of each report, or the error for the first that has
// none: "`where`: report 'ID' from room 'ROOM': why".
result<std::vector<report_columns>> reports_to_columns(const std::vector<status_report>& reports,
                                                       std::string_view where);

// JSON array of {"name","value","unit","action"}; error_kind::database when
// a value is not finite.
result<std::string> targets_to_json(const std::vector<recommendation_target>& targets);
// targets_to_json of each recommendation, or the error for the first that
// has none: "`where`: recommendation for room 'ROOM': why".
result<std::vector<std::string>> recommendations_to_json(const std::vector<recommendation>& recs,
                                                         std::string_view where);
// The inverse; empty for empty or malformed text (rows written before v2).
std::vector<recommendation_target> targets_from_json(std::string_view json);

// Row counts of the multi-row INSERTs that write `rows` rows: as many
// statements of `max_rows` as fit, then the rest in powers of two, so each
// engine caches at most log2(max_rows) + 1 prepared statements per table.
std::vector<std::size_t> statement_chunks(std::size_t rows, std::size_t max_rows);

// `head` VALUES `row`,`row`,... (`rows` times) `tail`: the text of one
// multi-row INSERT.
std::string multi_row_sql(std::string_view head, std::string_view row, std::size_t rows,
                          std::string_view tail = {});

// The stored name of an event kind is to_string(kind); this is the inverse,
// nullopt for a name this version does not know (written by a newer one).
std::optional<account_event::what> account_event_kind(std::string_view name);

// "device NAME given twice" for the first name that `accounts` holds
// twice, or nullopt (add_accounts refuses such a list before writing).
std::optional<std::string> name_given_twice(const std::vector<account>& accounts);

// The feed events of a batch (store.hpp): none without a node; else its
// feed_order, or the binds, presences and reports in vector order when that
// is empty.
std::vector<feed_ref> feed_events_of(const write_batch& batch);

// The sequence number of each record of a batch, 0 for a record that is no
// event: `order[i]` gets first + i.
struct feed_numbers {
  std::vector<std::int64_t> reports, presences, touches;
};
feed_numbers number_feed(const write_batch& batch, const std::vector<feed_ref>& order,
                         std::int64_t first);

// The stored name of a feed event kind ("report", "presence", "bind") and
// back (nullopt for a name this version does not know).
std::string_view feed_kind_name(feed_ref::what kind);
std::optional<feed_ref::what> feed_kind(std::string_view name);

// The parameters of the rows both engines write, in the order both engines'
// statements take them (the column lists of their INSERTs). `Params` is an
// engine's binder (mysql_params, sqlite_params), which binds in order. A
// batch with a node (`node` not empty) also binds the columns of schema v5.

// devices: jid, room, first_seen, last_update[, node, bound_at]; no node and
// bound_at (NULLs) for a touch that is no bind.
template <class Params>
void bind_touch_row(Params&& p, const device_touch& t, std::string_view node) {
  p.text(t.device_jid).text(t.room).integer(to_micros(t.at)).integer(to_micros(t.at));
  if (node.empty()) return;
  if (t.bound_at != sys_micros{})
    p.text(node).integer(to_micros(t.bound_at));
  else
    p.null_text().null_integer();
}

// readings: device_jid, room, taken_at_utc, utc_offset_minutes, received_at,
// temperature, humidity, brightness, extra, stanza_id[, node_id, node_seq];
// no node_id and node_seq (NULLs) for `seq` 0 (no feed event).
template <class Params>
void bind_report_row(Params&& p, const status_report& rep, const report_columns& cols,
                     std::string_view node, std::int64_t seq) {
  p.text(rep.device_jid)
      .text(rep.room)
      .integer(to_micros(rep.taken_at.utc))
      .integer(rep.taken_at.offset_minutes)
      .integer(to_micros(rep.received_at))
      .number(cols.temperature)
      .number(cols.humidity)
      .number(cols.brightness)
      .text_or_null(cols.extra)
      .text_or_null(rep.stanza_id);
  if (node.empty()) return;
  if (seq != 0)
    p.text(node).integer(seq);
  else
    p.null_text().null_integer();
}

// recommendations: room, asked_by, at_utc, utc_offset_minutes, period, targets.
template <class Params>
void bind_recommendation_row(Params&& p, const recommendation& rec, std::string_view targets) {
  p.text(rec.room)
      .text(rec.asked_by)
      .integer(to_micros(rec.at.utc))
      .integer(rec.at.offset_minutes)
      .text(rec.period)
      .text(targets);
}

// feed_events of a bind: node_id, node_seq, jid, room, at.
template <class Params>
void bind_bind_event(Params&& p, std::string_view node, std::int64_t seq, const device_touch& t) {
  p.text(node).integer(seq).text(t.device_jid).text(t.room).integer(to_micros(t.bound_at));
}

// feed_events of a presence: node_id, node_seq, at, online, presence_show,
// presence_status, then the jid whose device row gives the room.
template <class Params>
void bind_presence_event(Params&& p, std::string_view node, std::int64_t seq,
                         const presence_update& u) {
  p.text(node)
      .integer(seq)
      .integer(to_micros(u.at))
      .boolean(u.online)
      .text(u.show)
      .text(u.status)
      .text(u.device_jid);
}

// The rows both engines read, from their queries' columns in the order
// given, numbered from 0. `Row` is an engine's reader of the current row
// (mysql_row, sqlite_row): text, integer, number, boolean, is_null.

// devices: jid, room, first_seen, last_update, online, presence_show,
// presence_status, node (NULL text reads "").
template <class Row>
device_row read_device_row(const Row& row) {
  device_row d;
  d.jid = row.text(0);
  d.room = row.text(1);
  d.first_seen = from_micros(row.integer(2));
  d.last_update = from_micros(row.integer(3));
  d.online = row.boolean(4);
  d.show = row.text(5);
  d.status = row.text(6);
  d.node = row.text(7);
  return d;
}

// readings: device_jid, room, stanza_id, taken_at_utc, utc_offset_minutes,
// received_at, temperature, humidity, brightness, extra.
template <class Row>
status_report read_report_row(const Row& row) {
  status_report r;
  r.device_jid = row.text(0);
  r.room = row.text(1);
  r.stanza_id = row.text(2);
  r.taken_at.utc = from_micros(row.integer(3));
  r.taken_at.offset_minutes = static_cast<int>(row.integer(4));
  r.received_at = from_micros(row.integer(5));
  r.values = columns_to_values(row.number(6), row.number(7), row.number(8), row.text(9));
  return r;
}

// A node's feed, reports and feed_events alike: node_seq, kind, jid, room,
// at (taken_at_utc), utc_offset_minutes, received_at, stanza_id,
// temperature, humidity, brightness, extra, online, presence_show,
// presence_status.
template <class Row>
feed_record read_feed_row(const Row& row) {
  feed_record r;
  r.seq = row.integer(0);
  r.kind = feed_kind(row.text(1)).value_or(feed_ref::what::report);
  std::string jid = row.text(2);
  r.room = row.text(3);
  sys_micros at = from_micros(row.integer(4));
  if (r.kind == feed_ref::what::report) {
    r.report.device_jid = std::move(jid);
    r.report.room = r.room;
    r.report.taken_at = {at, static_cast<int>(row.integer(5))};
    r.report.received_at = from_micros(row.integer(6));
    r.report.stanza_id = row.text(7);
    r.report.values = columns_to_values(row.number(8), row.number(9), row.number(10), row.text(11));
  } else {
    r.presence.device_jid = std::move(jid);
    r.presence.at = at;
    r.presence.online = row.boolean(12);
    r.presence.show = row.text(13);
    r.presence.status = row.text(14);
  }
  return r;
}

// A device online on another node: jid, room, node, last_update.
template <class Row>
device_row read_online_elsewhere_row(const Row& row) {
  device_row d;
  d.jid = row.text(0);
  d.room = row.text(1);
  d.node = row.text(2);
  d.last_update = from_micros(row.integer(3));
  d.online = true;
  return d;
}

// The account and node calls of the store interface, written once for both
// engines: each forwards to the engine's account part (add, find, list,
// set_credentials, set_disabled, grant, revoke, remove, last_event,
// events_after) or node part (heartbeat, nodes, heads, after, prune,
// online_elsewhere, offline_dead_nodes), which `Engine`, deriving from
// store_with_parts<Engine>, returns from accounts_part() and nodes_part().
template <class Engine>
class store_with_parts : public store {
 public:
  result<void> add_accounts(const std::vector<account>& accounts) override {
    return self().accounts_part().add(accounts);
  }
  result<std::optional<account>> find_account(std::string_view name) override {
    return self().accounts_part().find(name);
  }
  result<std::vector<account>> list_accounts() override { return self().accounts_part().list(); }
  result<bool> set_account_credentials(std::string_view name,
                                       const std::vector<account_credentials>& creds) override {
    return self().accounts_part().set_credentials(name, creds);
  }
  result<bool> set_account_disabled(std::string_view name, bool disabled) override {
    return self().accounts_part().set_disabled(name, disabled);
  }
  result<bool> grant_rooms(std::string_view name, const std::vector<std::string>& rooms) override {
    return self().accounts_part().grant(name, rooms);
  }
  result<bool> revoke_rooms(std::string_view name, const std::vector<std::string>& rooms) override {
    return self().accounts_part().revoke(name, rooms);
  }
  result<bool> remove_account(std::string_view name) override {
    return self().accounts_part().remove(name);
  }
  result<std::int64_t> last_account_event() override { return self().accounts_part().last_event(); }
  result<std::vector<account_event>> account_events_after(std::int64_t id,
                                                          std::size_t limit) override {
    return self().accounts_part().events_after(id, limit);
  }
  result<void> heartbeat(std::string_view node, sys_micros started_at, sys_micros now) override {
    return self().nodes_part().heartbeat(node, started_at, now);
  }
  result<std::vector<node_row>> nodes() override { return self().nodes_part().nodes(); }
  result<std::vector<feed_head>> feed_heads() override { return self().nodes_part().heads(); }
  result<std::vector<feed_record>> feed_after(std::string_view node, std::int64_t after,
                                              std::size_t limit, bool reports) override {
    return self().nodes_part().after(node, after, limit, reports);
  }
  result<std::size_t> prune_feed(sys_micros before, std::size_t limit) override {
    return self().nodes_part().prune(before, limit);
  }
  result<std::vector<device_row>> online_elsewhere(std::string_view node,
                                                   sys_micros live_since) override {
    return self().nodes_part().online_elsewhere(node, live_since);
  }
  result<std::size_t> offline_dead_nodes(sys_micros dead_before) override {
    return self().nodes_part().offline_dead_nodes(dead_before);
  }

 private:
  Engine& self() { return static_cast<Engine&>(*this); }
};

}  // namespace iotxmpp
