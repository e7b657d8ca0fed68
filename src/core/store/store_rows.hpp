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

// JSON array of {"name","value","unit","action"}; error_kind::database when
// a value is not finite.
result<std::string> targets_to_json(const std::vector<recommendation_target>& targets);
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
