#include "core/store/sqlite_store.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <thread>
#include <utility>

#include "core/base/clock.hpp"
#include "core/store/schema.hpp"
#include "core/store/sqlite_accounts.hpp"
#include "core/store/sqlite_nodes.hpp"
#include "core/store/sqlite_statement.hpp"
#include "core/store/store_rows.hpp"

namespace iotxmpp {
namespace {

// Rows per multi-row INSERT; measured with bench/store_bench (larger
// statements gain nothing once per-statement overhead is amortised).
constexpr std::size_t max_rows_per_statement = 256;
constexpr int busy_timeout_ms = 10000;

using stmt_ptr = sqlite_stmt_ptr;
using reset_on_exit = sqlite_reset_on_exit;

constexpr const char* device_columns =
    "jid, room, first_seen, last_update, online, presence_show, presence_status, node";

enum class sql_id : int {
  begin,
  commit,
  rollback,
  touch,
  touch_node,
  report,
  report_node,
  recommendation,
  presence,
  offline,
  offline_node,
  latest,
  devices_all,
  devices_online,
  stale,
  reap,
  count_reports,
  count_recommendations,
};

std::string sql_text(sql_id id, std::size_t rows) {
  switch (id) {
    case sql_id::begin:
      return "BEGIN IMMEDIATE";
    case sql_id::commit:
      return "COMMIT";
    case sql_id::rollback:
      return "ROLLBACK";
    case sql_id::touch:
      return multi_row_sql(
          "INSERT INTO devices (jid, room, first_seen, last_update, online)", "(?, ?, ?, ?, 1)",
          rows,
          "ON CONFLICT (jid) DO UPDATE SET"
          " last_update = max(last_update, excluded.last_update), online = 1,"
          " room = CASE WHEN excluded.room <> '' THEN excluded.room ELSE room END");
    case sql_id::touch_node:
      // A bind (non-NULL bound_at) takes the row's node unless the row
      // holds a later bind (store.hpp).
      return multi_row_sql(
          "INSERT INTO devices (jid, room, first_seen, last_update, online, node, bound_at)",
          "(?, ?, ?, ?, 1, ?, ?)", rows,
          "ON CONFLICT (jid) DO UPDATE SET"
          " last_update = max(last_update, excluded.last_update), online = 1,"
          " room = CASE WHEN excluded.room <> '' THEN excluded.room ELSE room END,"
          " node = CASE WHEN excluded.bound_at IS NOT NULL AND"
          " (bound_at IS NULL OR excluded.bound_at >= bound_at) THEN excluded.node ELSE node END,"
          " bound_at = CASE WHEN excluded.bound_at IS NOT NULL AND"
          " (bound_at IS NULL OR excluded.bound_at >= bound_at) THEN excluded.bound_at"
          " ELSE bound_at END");
    case sql_id::report:
      return multi_row_sql(
          "INSERT INTO readings (device_jid, room, taken_at_utc, utc_offset_minutes, received_at,"
          " temperature, humidity, brightness, extra, stanza_id)",
          "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows, "ON CONFLICT (room, stanza_id) DO NOTHING");
    case sql_id::report_node:
      return multi_row_sql(
          "INSERT INTO readings (device_jid, room, taken_at_utc, utc_offset_minutes, received_at,"
          " temperature, humidity, brightness, extra, stanza_id, node_id, node_seq)",
          "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows, "ON CONFLICT (room, stanza_id) DO NOTHING");
    case sql_id::recommendation:
      return multi_row_sql(
          "INSERT INTO recommendations (room, asked_by, at_utc, utc_offset_minutes, period,"
          " targets)",
          "(?, ?, ?, ?, ?, ?)", rows);
    case sql_id::presence:
      return "INSERT INTO devices (jid, first_seen, last_update, online, presence_show,"
             " presence_status) VALUES (?1, ?2, ?2, ?3, ?4, ?5)"
             " ON CONFLICT (jid) DO UPDATE SET"
             " last_update = max(last_update, excluded.last_update), online = excluded.online,"
             " presence_show = excluded.presence_show, presence_status = excluded.presence_status";
    case sql_id::offline:
      return "UPDATE devices SET online = 0 WHERE jid = ?1";
    case sql_id::offline_node:
      return "UPDATE devices SET online = 0 WHERE jid = ?1 AND (node IS NULL OR node = ?2)";
    case sql_id::latest:
      return "SELECT device_jid, room, stanza_id, taken_at_utc, utc_offset_minutes, received_at,"
             " temperature, humidity, brightness, extra FROM readings WHERE room = ?1"
             " ORDER BY taken_at_utc DESC, id DESC LIMIT 1";
    case sql_id::devices_all:
      return std::string("SELECT ") + device_columns + " FROM devices ORDER BY jid";
    case sql_id::devices_online:
      return std::string("SELECT ") + device_columns + " FROM devices WHERE online ORDER BY jid";
    case sql_id::stale:
      return std::string("SELECT ") + device_columns +
             " FROM devices WHERE last_update < ?1 ORDER BY jid";
    case sql_id::reap:
      return std::string("DELETE FROM devices WHERE last_update < ?1 RETURNING ") + device_columns;
    case sql_id::count_reports:
      return "SELECT count(*) FROM readings";
    case sql_id::count_recommendations:
      return "SELECT count(*) FROM recommendations";
  }
  return {};
}

class sqlite_store final : public store_with_parts<sqlite_store> {
 public:
  sqlite_store(sqlite3* db, store_url url)
      : db_(db),
        url_(std::move(url)),
        stmts_(db_, url_.redacted(), sql_text),
        accounts_(db_, url_.redacted()),
        nodes_(db_, url_.redacted()) {}
  ~sqlite_store() override {
    stmts_.clear();
    accounts_.forget_statements();
    nodes_.forget_statements();
    sqlite3_close_v2(db_);
  }

  result<migration_report> migrate() override { return migrate_to(latest_schema_version); }
  result<migration_report> migrate_to(int version) override;
  result<void> apply(const write_batch& batch) override;
  result<std::optional<status_report>> latest_report(std::string_view room) override;
  result<std::vector<device_row>> devices(bool online_only) override;
  result<std::vector<device_row>> reap(sys_micros cutoff, bool dry_run) override;
  result<std::size_t> count_reports() override { return count(sql_id::count_reports); }
  result<std::size_t> count_recommendations() override {
    return count(sql_id::count_recommendations);
  }
  result<void> ping() override { return exec_direct("SELECT 1"); }
  std::string describe() const override { return url_.redacted(); }

  // Runs statements outside the cache (setup, migrations).
  result<void> exec_direct(const char* sql);

 private:
  friend class store_with_parts<sqlite_store>;
  sqlite_accounts& accounts_part() { return accounts_; }
  sqlite_nodes& nodes_part() { return nodes_; }
  std::unexpected<error> failure(int rc) const { return stmts_.failure(rc); }
  void rollback_if_open() {
    if (!sqlite3_get_autocommit(db_)) (void)stmts_.run(sql_id::rollback);
  }
  result<void> write_all(const write_batch& batch);
  result<int> schema_version();
  result<std::size_t> count(sql_id id);
  result<std::vector<device_row>> read_devices(sqlite3_stmt* s);

  template <class BindRow>
  result<void> insert_rows(sql_id id, std::size_t rows, BindRow&& bind_row) {
    return stmts_.insert_rows(id, rows, max_rows_per_statement, std::forward<BindRow>(bind_row));
  }

  sqlite3* db_;
  store_url url_;
  sqlite_statements<sql_id> stmts_;
  sqlite_accounts accounts_;
  sqlite_nodes nodes_;
};

result<void> sqlite_store::exec_direct(const char* sql) {
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return failure(rc);
  return {};
}

result<int> sqlite_store::schema_version() {
  sqlite3_stmt* raw = nullptr;
  const char* sql =
      "SELECT CASE WHEN EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table'"
      " AND name = 'schema_version') THEN 1 ELSE 0 END";
  int rc = sqlite3_prepare_v2(db_, sql, -1, &raw, nullptr);
  if (rc != SQLITE_OK) return failure(rc);
  stmt_ptr s(raw);
  rc = sqlite3_step(s.get());
  if (rc != SQLITE_ROW) return failure(rc);
  if (sqlite3_column_int(s.get(), 0) == 0) return 0;
  rc = sqlite3_prepare_v2(db_, "SELECT coalesce(max(version), 0) FROM schema_version", -1, &raw,
                          nullptr);
  if (rc != SQLITE_OK) return failure(rc);
  s.reset(raw);
  rc = sqlite3_step(s.get());
  if (rc != SQLITE_ROW) return failure(rc);
  return sqlite3_column_int(s.get(), 0);
}

result<migration_report> sqlite_store::migrate_to(int target) {
  // BEGIN IMMEDIATE takes the write lock before reading the version, so two
  // processes migrating at once run one after the other.
  if (auto r = stmts_.run(sql_id::begin); !r) return std::unexpected(r.error());
  auto body = [&]() -> result<migration_report> {
    auto version = schema_version();
    if (!version) return std::unexpected(version.error());
    if (*version > latest_schema_version)
      return fail(error_kind::database, describe() + ": schema v" + std::to_string(*version) +
                                            " is newer than this iotxmpp knows (v" +
                                            std::to_string(latest_schema_version) + ")");
    migration_report report{*version, *version, {}};
    for (const migration* m : pending_migrations(sql_dialect::sqlite, *version, target)) {
      for (std::string_view sql : m->statements)
        if (auto r = exec_direct(std::string(sql).c_str()); !r) return std::unexpected(r.error());
      sqlite3_stmt* raw = nullptr;
      int rc = sqlite3_prepare_v2(
          db_, "INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)", -1, &raw,
          nullptr);
      if (rc != SQLITE_OK) return failure(rc);
      stmt_ptr s(raw);
      sqlite_params(raw).integer(m->version).text(m->name).integer(to_micros(clock::wall_now()));
      if (auto r = stmts_.step_done(raw); !r) return std::unexpected(r.error());
      report.to_version = m->version;
      report.applied.push_back(migration_label(*m));
    }
    if (auto r = stmts_.run(sql_id::commit); !r) return std::unexpected(r.error());
    return report;
  };
  auto report = body();
  if (!report) rollback_if_open();
  // Cached statements may refer to tables the migration changed.
  stmts_.clear();
  accounts_.forget_statements();
  nodes_.forget_statements();
  return report;
}

result<void> sqlite_store::apply(const write_batch& batch) {
  if (batch.empty()) return {};
  if (auto r = stmts_.run(sql_id::begin); !r) return r;
  auto r = write_all(batch);
  if (r) r = stmts_.run(sql_id::commit);
  if (!r) rollback_if_open();
  return r;
}

result<void> sqlite_store::write_all(const write_batch& batch) {
  // The node's feed numbers first: the transaction then holds its sequence
  // row, and the numbers follow commit order (store.hpp).
  const std::vector<feed_ref> events = feed_events_of(batch);
  std::int64_t first = 0;
  if (!events.empty()) {
    auto reserved = nodes_.reserve(batch.node, events.size());
    if (!reserved) return std::unexpected(reserved.error());
    first = *reserved;
  }
  const feed_numbers numbers = number_feed(batch, events, first);
  // Without a node the batch writes no column of schema v5 (store.hpp).
  const bool node = !batch.node.empty();
  auto touched = insert_rows(
      node ? sql_id::touch_node : sql_id::touch, batch.touches.size(),
      [&](sqlite_params& p, std::size_t i) { bind_touch_row(p, batch.touches[i], batch.node); });
  if (!touched) return touched;
  if (auto r = accounts_.record_logins(batch.logins); !r) return r;
  for (const presence_update& u : batch.presences) {
    auto s = stmts_.get(sql_id::presence);
    if (!s) return std::unexpected(s.error());
    sqlite_params p(*s);
    p.text(u.device_jid);
    p.integer(to_micros(u.at));
    p.boolean(u.online);
    p.text(u.show);
    p.text(u.status);
    if (auto r = stmts_.step_done(*s); !r) return r;
  }
  for (const device_offline& o : batch.offlines) {
    auto s = stmts_.get(node ? sql_id::offline_node : sql_id::offline);
    if (!s) return std::unexpected(s.error());
    sqlite_params p(*s);
    p.text(o.device_jid);
    if (node) p.text(batch.node);
    if (auto r = stmts_.step_done(*s); !r) return r;
  }
  if (auto r = nodes_.write_events(batch, numbers); !r) return r;

  auto cols = reports_to_columns(batch.reports, describe());
  if (!cols) return std::unexpected(cols.error());
  auto reported = insert_rows(node ? sql_id::report_node : sql_id::report, batch.reports.size(),
                              [&](sqlite_params& p, std::size_t i) {
                                bind_report_row(p, batch.reports[i], (*cols)[i], batch.node,
                                                numbers.reports[i]);
                              });
  if (!reported) return reported;

  auto targets = recommendations_to_json(batch.recommendations, describe());
  if (!targets) return std::unexpected(targets.error());
  return insert_rows(sql_id::recommendation, batch.recommendations.size(),
                     [&](sqlite_params& p, std::size_t i) {
                       bind_recommendation_row(p, batch.recommendations[i], (*targets)[i]);
                     });
}

result<std::optional<status_report>> sqlite_store::latest_report(std::string_view room) {
  auto s = stmts_.get(sql_id::latest);
  if (!s) return std::unexpected(s.error());
  reset_on_exit reset{*s};
  sqlite_params p(*s);
  p.text(room);
  int rc = sqlite3_step(*s);
  if (rc == SQLITE_DONE) return std::optional<status_report>();
  if (rc != SQLITE_ROW) return failure(rc);
  return std::optional<status_report>(read_report_row(sqlite_row(*s)));
}

result<std::vector<device_row>> sqlite_store::read_devices(sqlite3_stmt* s) {
  std::vector<device_row> out;
  auto r = stmts_.each_row(
      s, [&](sqlite3_stmt* row) { out.push_back(read_device_row(sqlite_row(row))); });
  if (!r) return std::unexpected(r.error());
  return out;
}

result<std::vector<device_row>> sqlite_store::devices(bool online_only) {
  auto s = stmts_.get(online_only ? sql_id::devices_online : sql_id::devices_all);
  if (!s) return std::unexpected(s.error());
  return read_devices(*s);
}

result<std::vector<device_row>> sqlite_store::reap(sys_micros cutoff, bool dry_run) {
  if (dry_run) {
    auto s = stmts_.get(sql_id::stale);
    if (!s) return std::unexpected(s.error());
    sqlite_params p(*s);
    p.integer(to_micros(cutoff));
    return read_devices(*s);
  }
  // One DELETE ... RETURNING under the write lock: what it returns is
  // exactly what it removed, whoever else is reaping.
  if (auto r = stmts_.run(sql_id::begin); !r) return std::unexpected(r.error());
  auto s = stmts_.get(sql_id::reap);
  result<std::vector<device_row>> removed = std::unexpected(error{});
  if (!s) {
    removed = std::unexpected(s.error());
  } else {
    sqlite_params p(*s);
    p.integer(to_micros(cutoff));
    removed = read_devices(*s);
  }
  if (removed) {
    if (auto r = stmts_.run(sql_id::commit); !r) removed = std::unexpected(r.error());
  }
  if (!removed) {
    rollback_if_open();
    return removed;
  }
  std::sort(removed->begin(), removed->end(),
            [](const device_row& a, const device_row& b) { return a.jid < b.jid; });
  return removed;
}

result<std::size_t> sqlite_store::count(sql_id id) {
  auto n = stmts_.single_int(id);
  if (!n) return std::unexpected(n.error());
  return static_cast<std::size_t>(*n);
}

}  // namespace

std::span<const char* const> sqlite_pragmas() {
  static constexpr const char* pragmas[] = {
      "PRAGMA journal_mode=WAL",
      "PRAGMA synchronous=FULL",
      // A page cache that holds the hot index pages across the writer's
      // transactions (WAL keeps it valid between them), and checkpoints
      // every ~40 MB of WAL rather than 4 MB: both cut the pages each
      // commit rewrites (measured with bench/store_bench).
      "PRAGMA cache_size=-65536",
      "PRAGMA wal_autocheckpoint=10000",
  };
  return pragmas;
}

result<std::unique_ptr<store>> open_sqlite_store(const store_url& url) {
  sqlite3* db = nullptr;
  int rc =
      sqlite3_open_v2(url.path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg =
        "cannot open " + url.redacted() + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    sqlite3_close_v2(db);
    return fail(error_kind::io, std::move(msg));
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, busy_timeout_ms);
  auto s = std::make_unique<sqlite_store>(db, url);
  // WAL lets readers (reap --dry-run, queries) run beside the writer;
  // synchronous=FULL makes each commit durable, which the server's
  // acknowledgements promise (PROTOCOL.md §3.5).
  for (const char* pragma : sqlite_pragmas()) {
    auto r = s->exec_direct(pragma);
    // Two connections opening a new file at once: switching it to WAL can
    // report "locked" without consulting the busy handler. Retry for as long
    // as the busy timeout would have waited.
    for (int waited_ms = 0;
         !r && r.error().kind == error_kind::timeout && waited_ms < busy_timeout_ms;
         waited_ms += 5) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      r = s->exec_direct(pragma);
    }
    if (!r) {
      error e = r.error();
      if (e.kind == error_kind::database) e.kind = error_kind::io;  // e.g. not a database
      e.message = "cannot open " + e.message;
      return std::unexpected(e);
    }
  }
  return std::unique_ptr<store>(std::move(s));
}

}  // namespace iotxmpp
