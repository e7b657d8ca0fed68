#include "core/store/mysql_store.hpp"

#include <cppconn/statement.h>
#include <mysql_driver.h>

#include <cstdint>
#include <utility>

#include "core/base/clock.hpp"
#include "core/base/host_port.hpp"
#include "core/store/mysql_accounts.hpp"
#include "core/store/mysql_nodes.hpp"
#include "core/store/mysql_statements.hpp"
#include "core/store/schema.hpp"
#include "core/store/store_rows.hpp"

namespace iotxmpp {
namespace {

// Rows per multi-row INSERT. 1000 against 256: full-rate ingest into MariaDB
// 114-117k reports/s against 108-109k (bench/run's ingest scenario, 50
// connections; iotxmpp_raw_insert finds the same order for plain clients).
// A readings row has 12 parameters: 12,000 per statement, well under the
// protocol's 65,535.
constexpr std::size_t max_rows_per_statement = 1000;
// Pruning batch tokens (store.hpp): at most this many rows, at most this often
// per store. A writer commits at most ~200 batches/s (one per max_delay), so
// this keeps up with 5 writers per pruning store, in statements of bounded
// length.
constexpr std::size_t prune_limit = 10000;
constexpr auto prune_every = std::chrono::seconds(10);
constexpr int er_dup_entry = 1062;

sql::mysql::MySQL_Driver* driver() {
  // get_mysql_driver_instance() is not safe to call concurrently the first time.
  static sql::mysql::MySQL_Driver* instance = sql::mysql::get_mysql_driver_instance();
  return instance;
}

std::unique_ptr<sql::Connection> connect(const store_url& url, bool with_database) {
  sql::ConnectOptionsMap options;
  options["hostName"] = sql::SQLString("tcp://" + format_host_port(url.host, url.port));
  options["userName"] = sql::SQLString(url.user);
  options["password"] = sql::SQLString(url.password);
  if (with_database) options["schema"] = sql::SQLString(url.database);
  options["OPT_CHARSET_NAME"] = sql::SQLString("utf8mb4");
  options["OPT_CONNECT_TIMEOUT"] = 5;
  options["OPT_READ_TIMEOUT"] = 120;
  options["OPT_WRITE_TIMEOUT"] = 120;
  options["OPT_RECONNECT"] = false;  // a silent reconnect would drop a transaction unnoticed
  std::unique_ptr<sql::Connection> conn(driver()->connect(options));
  std::unique_ptr<sql::Statement> st(conn->createStatement());
  // Strict mode: refuse bad data instead of truncating it, on any server config.
  st->execute("SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION'");
  st->execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED");
  return conn;
}

// Appends rather than `"`" + std::string(name)`: GCC 12 warns (-Wrestrict, a
// false positive) at -O2 on operator+(const char*, std::string&&).
std::string quoted_name(std::string_view name) { return std::string("`").append(name) + "`"; }

enum class sql_id : int {
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
  stale_locked,
  remove,
  version_row,
  token,
  prune_tokens,
};

constexpr const char* device_columns =
    "jid, room, first_seen, last_update, online, presence_show, presence_status, node";

std::string sql_text(sql_id id, std::size_t rows) {
  switch (id) {
    case sql_id::touch:
      return multi_row_sql(
          "INSERT INTO devices (jid, room, first_seen, last_update, online, presence_show,"
          " presence_status)",
          "(?, ?, ?, ?, TRUE, '', '')", rows,
          "ON DUPLICATE KEY UPDATE last_update = GREATEST(last_update, VALUES(last_update)),"
          " online = TRUE, room = IF(VALUES(room) <> '', VALUES(room), room)");
    case sql_id::touch_node:
      // A bind (non-NULL bound_at) takes the row's node unless the row holds
      // a later bind (store.hpp). MySQL assigns left to right, each seeing
      // the ones before: node is set while bound_at still holds the old bind.
      return multi_row_sql(
          "INSERT INTO devices (jid, room, first_seen, last_update, online, presence_show,"
          " presence_status, node, bound_at)",
          "(?, ?, ?, ?, TRUE, '', '', ?, ?)", rows,
          "ON DUPLICATE KEY UPDATE last_update = GREATEST(last_update, VALUES(last_update)),"
          " online = TRUE, room = IF(VALUES(room) <> '', VALUES(room), room),"
          " node = IF(VALUES(bound_at) IS NOT NULL AND"
          " (bound_at IS NULL OR VALUES(bound_at) >= bound_at), VALUES(node), node),"
          " bound_at = IF(VALUES(bound_at) IS NOT NULL AND"
          " (bound_at IS NULL OR VALUES(bound_at) >= bound_at), VALUES(bound_at), bound_at)");
    case sql_id::report:
      return multi_row_sql(
          "INSERT INTO readings (device_jid, room, taken_at_utc, utc_offset_minutes, received_at,"
          " temperature, humidity, brightness, extra, stanza_id)",
          "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows, "ON DUPLICATE KEY UPDATE id = id");
    case sql_id::report_node:
      // (node_id, node_seq) is an index, not a unique key: a node never
      // gives one of its numbers twice (store.hpp), and were it to, the
      // report would be stored, not skipped as a duplicate.
      return multi_row_sql(
          "INSERT INTO readings (device_jid, room, taken_at_utc, utc_offset_minutes, received_at,"
          " temperature, humidity, brightness, extra, stanza_id, node_id, node_seq)",
          "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows, "ON DUPLICATE KEY UPDATE id = id");
    case sql_id::recommendation:
      return multi_row_sql(
          "INSERT INTO recommendations (room, asked_by, at_utc, utc_offset_minutes, period,"
          " targets)",
          "(?, ?, ?, ?, ?, ?)", rows);
    case sql_id::presence:
      return "INSERT INTO devices (jid, room, first_seen, last_update, online, presence_show,"
             " presence_status) VALUES (?, '', ?, ?, ?, ?, ?)"
             " ON DUPLICATE KEY UPDATE last_update = GREATEST(last_update, VALUES(last_update)),"
             " online = VALUES(online), presence_show = VALUES(presence_show),"
             " presence_status = VALUES(presence_status)";
    case sql_id::offline:
      return "UPDATE devices SET online = FALSE WHERE jid = ?";
    case sql_id::offline_node:
      return "UPDATE devices SET online = FALSE WHERE jid = ? AND (node IS NULL OR node = ?)";
    case sql_id::latest:
      return "SELECT device_jid, room, stanza_id, taken_at_utc, utc_offset_minutes, received_at,"
             " temperature, humidity, brightness, extra FROM readings WHERE room = ?"
             " ORDER BY taken_at_utc DESC, id DESC LIMIT 1";
    case sql_id::devices_all:
      return std::string("SELECT ") + device_columns + " FROM devices ORDER BY jid";
    case sql_id::devices_online:
      return std::string("SELECT ") + device_columns + " FROM devices WHERE online ORDER BY jid";
    case sql_id::stale:
      return std::string("SELECT ") + device_columns +
             " FROM devices WHERE last_update < ? ORDER BY jid";
    case sql_id::stale_locked:
      return std::string("SELECT ") + device_columns +
             " FROM devices WHERE last_update < ? ORDER BY jid FOR UPDATE";
    case sql_id::remove: {
      std::string sql = "DELETE FROM devices WHERE jid IN (";
      for (std::size_t i = 0; i < rows; ++i) sql += i ? ",?" : "?";
      return sql + ")";
    }
    case sql_id::version_row:
      return "INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)";
    case sql_id::token:
      return "INSERT INTO batch_tokens (token, committed_at) VALUES (UNHEX(?), ?)";
    case sql_id::prune_tokens:
      return "DELETE FROM batch_tokens WHERE committed_at < ? LIMIT " + std::to_string(prune_limit);
  }
  return {};
}

class mysql_store final : public store_with_parts<mysql_store> {
 public:
  mysql_store(std::unique_ptr<sql::Connection> conn, store_url url)
      : conn_(std::move(conn)),
        text_(conn_->createStatement()),
        url_(std::move(url)),
        stmts_(*conn_, sql_text),
        accounts_(*conn_, url_),
        nodes_(*conn_, url_) {}

  result<migration_report> migrate() override { return migrate_to(latest_schema_version); }
  result<migration_report> migrate_to(int version) override;
  result<void> apply(const write_batch& batch) override;
  result<std::optional<status_report>> latest_report(std::string_view room) override;
  result<std::vector<device_row>> devices(bool online_only) override;
  result<std::vector<device_row>> reap(sys_micros cutoff, bool dry_run) override;
  result<std::size_t> count_reports() override { return count("SELECT COUNT(*) FROM readings"); }
  result<std::size_t> count_recommendations() override {
    return count("SELECT COUNT(*) FROM recommendations");
  }
  result<void> ping() override {
    return guarded<void>("ping", [&] { text_->execute("SELECT 1"); });
  }
  std::string describe() const override { return url_.redacted(); }

 private:
  friend class store_with_parts<mysql_store>;
  mysql_accounts& accounts_part() { return accounts_; }
  mysql_nodes& nodes_part() { return nodes_; }
  // Runs f, turning Connector/C++ exceptions into an error; when a
  // transaction is open, rolls it back first.
  template <class T, class F>
  result<T> guarded(std::string_view doing, F&& f) {
    result<T> out = mysql_guarded<T>(url_, doing, std::forward<F>(f));
    // Only an exception leaves a transaction open: a body that returns an
    // error has not begun one.
    if (!out) rollback_if_open();
    return out;
  }
  void begin() {
    text_->execute("START TRANSACTION");
    in_transaction_ = true;
  }
  void commit() {
    text_->execute("COMMIT");
    in_transaction_ = false;
  }
  void rollback_if_open() {
    if (!in_transaction_) return;
    in_transaction_ = false;
    try {
      text_->execute("ROLLBACK");
    } catch (const sql::SQLException&) {
      // The connection is gone, and the server rolled back for us.
    }
  }
  template <class BindRow>
  void insert_rows(sql_id id, std::size_t rows, BindRow&& bind_row) {
    stmts_.insert_rows(id, rows, max_rows_per_statement, std::forward<BindRow>(bind_row));
  }
  std::vector<device_row> read_devices(sql::PreparedStatement* s) {
    std::unique_ptr<sql::ResultSet> rs(s->executeQuery());
    std::vector<device_row> out;
    while (rs->next()) out.push_back(read_device_row(mysql_row(*rs)));
    return out;
  }
  result<std::size_t> count(const char* sql) {
    return guarded<std::size_t>("count rows in", [&] {
      std::unique_ptr<sql::ResultSet> rs(text_->executeQuery(sql));
      rs->next();
      return static_cast<std::size_t>(rs->getInt64(1));
    });
  }
  int schema_version();
  bool insert_token(const std::string& token);
  void prune_tokens();
  void write_all(const write_batch& batch, const std::vector<report_columns>& cols,
                 const std::vector<std::string>& targets);

  std::unique_ptr<sql::Connection> conn_;
  std::unique_ptr<sql::Statement> text_;
  store_url url_;
  mysql_statements<sql_id> stmts_;
  bool in_transaction_ = false;
  steady_time next_prune_ = clock::steady_now();
  mysql_accounts accounts_;
  mysql_nodes nodes_;
};

int mysql_store::schema_version() {
  std::unique_ptr<sql::ResultSet> rs(
      text_->executeQuery("SELECT COUNT(*) FROM information_schema.tables"
                          " WHERE table_schema = DATABASE() AND table_name = 'schema_version'"));
  rs->next();
  if (rs->getInt(1) == 0) return 0;
  rs.reset(text_->executeQuery("SELECT COALESCE(MAX(version), 0) FROM schema_version"));
  rs->next();
  return rs->getInt(1);
}

result<migration_report> mysql_store::migrate_to(int target) {
  // MySQL commits each DDL statement on its own, so a transaction cannot
  // serialise two migrating processes: a named lock does.
  std::string lock = ("iotxmpp_migrate_" + url_.database).substr(0, 64);
  auto report = guarded<migration_report>("migrate", [&]() -> result<migration_report> {
    std::unique_ptr<sql::ResultSet> rs(text_->executeQuery("SELECT GET_LOCK('" + lock + "', 60)"));
    if (!rs->next() || rs->getInt(1) != 1)
      return fail(error_kind::timeout,
                  "migrate " + describe() + ": another migration holds the lock");
    struct unlock {
      sql::Statement* st;
      std::string lock;
      ~unlock() {
        try {
          std::unique_ptr<sql::ResultSet>(st->executeQuery("SELECT RELEASE_LOCK('" + lock + "')"));
        } catch (const sql::SQLException&) {
          // The lock dies with the connection.
        }
      }
    } release{text_.get(), lock};
    int version = schema_version();
    if (version > latest_schema_version)
      return fail(error_kind::database, describe() + ": schema v" + std::to_string(version) +
                                            " is newer than this iotxmpp knows (v" +
                                            std::to_string(latest_schema_version) + ")");
    migration_report report{version, version, {}};
    for (const migration* m : pending_migrations(sql_dialect::mysql, version, target)) {
      for (std::string_view sql : m->statements) text_->execute(std::string(sql));
      mysql_params(stmts_.get(sql_id::version_row))
          .integer(m->version)
          .text(m->name)
          .integer(to_micros(clock::wall_now()));
      stmts_.get(sql_id::version_row)->executeUpdate();
      report.to_version = m->version;
      report.applied.push_back(migration_label(*m));
    }
    return report;
  });
  // Cached statements may refer to tables the migration changed.
  stmts_.clear();
  accounts_.forget_statements();
  nodes_.forget_statements();
  return report;
}

result<void> mysql_store::apply(const write_batch& batch) {
  if (batch.empty()) return {};
  auto cols = reports_to_columns(batch.reports, describe());
  if (!cols) return std::unexpected(cols.error());
  auto targets = recommendations_to_json(batch.recommendations, describe());
  if (!targets) return std::unexpected(targets.error());
  bool at_commit = false;
  auto written = guarded<void>("write to", [&] {
    begin();
    // First, so that a retry of a batch already committed stops here, and so
    // that a retry racing a COMMIT still in progress waits on its row lock
    // (the safety argument is in store.hpp).
    if (!batch.token.empty() && !insert_token(batch.token)) {
      rollback_if_open();
      return;
    }
    write_all(batch, *cols, *targets);
    at_commit = true;
    commit();
    nodes_.committed();
  });
  if (!written) {
    nodes_.abandoned();
    if (at_commit && written.error().kind == error_kind::connect)
      written.error().message += "; the batch may have committed (a retry checks its token)";
    return written;
  }
  prune_tokens();
  return written;
}

// False when the token is already there: its batch committed before.
bool mysql_store::insert_token(const std::string& token) {
  sql::PreparedStatement* s = stmts_.get(sql_id::token);
  mysql_params(s).text(token).integer(to_micros(clock::wall_now()));
  try {
    s->executeUpdate();
  } catch (const sql::SQLException& e) {
    if (e.getErrorCode() == er_dup_entry) return false;
    throw;
  }
  return true;
}

// Best effort, outside the batch's transaction: a failure only delays it (a
// lost connection shows in the next call), and on Galera two nodes pruning
// the same rows cost one of them a certification failure here rather than a
// batch.
void mysql_store::prune_tokens() {
  steady_time now = clock::steady_now();
  if (now < next_prune_) return;
  next_prune_ = now + prune_every;
  try {
    sql::PreparedStatement* s = stmts_.get(sql_id::prune_tokens);
    mysql_params(s).integer(to_micros(clock::wall_now() - batch_token_keep));
    s->executeUpdate();
  } catch (const sql::SQLException&) {
  }
}

void mysql_store::write_all(const write_batch& batch, const std::vector<report_columns>& cols,
                            const std::vector<std::string>& targets) {
  // The node's feed numbers first: the transaction then holds its sequence
  // row, and the numbers follow commit order (store.hpp).
  const std::vector<feed_ref> events = feed_events_of(batch);
  const std::int64_t first = events.empty() ? 0 : nodes_.reserve(batch.node, events.size());
  const feed_numbers numbers = number_feed(batch, events, first);
  // Without a node the batch writes no column of schema v5 (store.hpp).
  const bool node = !batch.node.empty();
  insert_rows(
      node ? sql_id::touch_node : sql_id::touch, batch.touches.size(),
      [&](mysql_params& p, std::size_t i) { bind_touch_row(p, batch.touches[i], batch.node); });
  accounts_.record_logins(batch.logins);
  for (const presence_update& u : batch.presences) {
    sql::PreparedStatement* s = stmts_.get(sql_id::presence);
    mysql_params(s)
        .text(u.device_jid)
        .integer(to_micros(u.at))
        .integer(to_micros(u.at))
        .boolean(u.online)
        .text(u.show)
        .text(u.status);
    s->executeUpdate();
  }
  for (const device_offline& o : batch.offlines) {
    sql::PreparedStatement* s = stmts_.get(node ? sql_id::offline_node : sql_id::offline);
    mysql_params p(s);
    p.text(o.device_jid);
    if (node) p.text(batch.node);
    s->executeUpdate();
  }
  nodes_.write_events(batch, numbers);
  insert_rows(node ? sql_id::report_node : sql_id::report, batch.reports.size(),
              [&](mysql_params& p, std::size_t i) {
                bind_report_row(p, batch.reports[i], cols[i], batch.node, numbers.reports[i]);
              });
  insert_rows(sql_id::recommendation, batch.recommendations.size(),
              [&](mysql_params& p, std::size_t i) {
                bind_recommendation_row(p, batch.recommendations[i], targets[i]);
              });
}

result<std::optional<status_report>> mysql_store::latest_report(std::string_view room) {
  return guarded<std::optional<status_report>>("read from", [&] {
    sql::PreparedStatement* s = stmts_.get(sql_id::latest);
    mysql_params(s).text(room);
    std::unique_ptr<sql::ResultSet> rs(s->executeQuery());
    if (!rs->next()) return std::optional<status_report>();
    return std::optional<status_report>(read_report_row(mysql_row(*rs)));
  });
}

result<std::vector<device_row>> mysql_store::devices(bool online_only) {
  return guarded<std::vector<device_row>>("read from", [&] {
    return read_devices(stmts_.get(online_only ? sql_id::devices_online : sql_id::devices_all));
  });
}

result<std::vector<device_row>> mysql_store::reap(sys_micros cutoff, bool dry_run) {
  if (dry_run) {
    return guarded<std::vector<device_row>>("read from", [&] {
      sql::PreparedStatement* s = stmts_.get(sql_id::stale);
      mysql_params(s).integer(to_micros(cutoff));
      return read_devices(s);
    });
  }
  // Lock the stale rows, then delete exactly those: a second reaper waits on
  // the locks and then finds them gone, so no device is reported twice.
  // (Portable to MySQL, which lacks MariaDB's DELETE ... RETURNING.)
  return mysql_retry_deadlocks([&] {
    return guarded<std::vector<device_row>>("reap in", [&] {
      begin();
      sql::PreparedStatement* s = stmts_.get(sql_id::stale_locked);
      mysql_params(s).integer(to_micros(cutoff));
      std::vector<device_row> rows = read_devices(s);
      insert_rows(sql_id::remove, rows.size(),
                  [&](mysql_params& p, std::size_t i) { p.text(rows[i].jid); });
      commit();
      return rows;
    });
  });
}

// A connection without a default database, for creating or dropping one.
result<std::unique_ptr<sql::Connection>> connect_server(const store_url& url) {
  try {
    return connect(url, false);
  } catch (const sql::SQLException& e) {
    return std::unexpected(mysql_exception_error(url, e, "cannot connect to"));
  }
}

}  // namespace

result<std::unique_ptr<store>> open_mysql_store(const store_url& url) {
  try {
    return std::unique_ptr<store>(std::make_unique<mysql_store>(connect(url, true), url));
  } catch (const sql::SQLException& e) {
    return std::unexpected(mysql_exception_error(url, e, "cannot connect to"));
  }
}

std::unique_ptr<sql::Connection> mysql_raw_connection(const store_url& url) {
  return connect(url, true);
}

result<bool> mysql_create_database(const store_url& url) {
  auto conn = connect_server(url);
  if (!conn) return std::unexpected(conn.error());
  try {
    std::unique_ptr<sql::PreparedStatement> exists((*conn)->prepareStatement(
        "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = ?"));
    exists->setString(1, url.database);
    std::unique_ptr<sql::ResultSet> rs(exists->executeQuery());
    if (rs->next() && rs->getInt(1) > 0) return false;
    std::unique_ptr<sql::Statement> st((*conn)->createStatement());
    st->execute("CREATE DATABASE IF NOT EXISTS " + quoted_name(url.database) +
                " CHARACTER SET utf8mb4 COLLATE utf8mb4_bin");
    return true;
  } catch (const sql::SQLException& e) {
    return std::unexpected(mysql_exception_error(url, e, "cannot create database in"));
  }
}

result<void> mysql_drop_database(const store_url& url) {
  auto conn = connect_server(url);
  if (!conn) return std::unexpected(conn.error());
  try {
    std::unique_ptr<sql::Statement> st((*conn)->createStatement());
    st->execute("DROP DATABASE IF EXISTS " + quoted_name(url.database));
    return {};
  } catch (const sql::SQLException& e) {
    return std::unexpected(mysql_exception_error(url, e, "cannot drop database in"));
  }
}

}  // namespace iotxmpp
