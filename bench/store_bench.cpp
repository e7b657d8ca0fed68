// Storage throughput: rows per second committed by store_writer (every
// completion fired, so every row durable) into SQLite and MariaDB, next to
// the best plain multi-row INSERT of the same rows on the same engine in the
// same run. Not a timed test: it prints figures.
//
//   build/bench/store_bench [--rows N] [--engine sqlite|mysql|both] [--mysql URL]
//                           [--max-batch N] [--queue N] [--rounds R]
//
// The MySQL URL comes from --mysql, else IOTXMPP_BENCH_MYSQL; when neither is
// given a private MariaDB is started with scripts/test-mariadb in a temporary
// directory and stopped at the end.

#include <sqlite3.h>
#include <unistd.h>

#include <cppconn/exception.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/statement.h>
#include <mysql_connection.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/store/mysql_store.hpp"
#include "core/store/sqlite_store.hpp"
#include "core/store/store.hpp"
#include "core/store/store_rows.hpp"
#include "core/store/store_writer.hpp"

namespace {

using namespace iotxmpp;
using clock_type = std::chrono::steady_clock;

const std::string readings_head =
    "INSERT INTO readings (device_jid, room, taken_at_utc, utc_offset_minutes, received_at,"
    " temperature, humidity, brightness, extra, stanza_id)";
const std::string row_params = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

std::int64_t micros(sys_micros t) { return t.time_since_epoch().count(); }

std::vector<status_report> make_reports(std::size_t n) {
  std::vector<status_report> out;
  out.reserve(n);
  sys_micros base =
      std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
  for (std::size_t i = 0; i < n; ++i) {
    status_report r;
    r.device_jid = "dev" + std::to_string(i % 1000) + "@iot.local/boot1";
    r.room = "room-" + std::to_string(i % 1000);
    r.stanza_id = "b1-" + std::to_string(i);
    r.taken_at = {base + std::chrono::milliseconds(i), 60};
    r.received_at = r.taken_at.utc + std::chrono::milliseconds(2);
    r.values = {{"temperature", 20 + (i % 50) / 10.0,
                 "\xC2\xB0"
                 "C"},
                {"humidity", 40.0 + static_cast<double>(i % 20), "%"},
                {"brightness", static_cast<double>(i % 900), "lx"}};
    out.push_back(std::move(r));
  }
  return out;
}

double seconds_since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "store_bench: %s\n", why.c_str());
  std::exit(1);
}

// A fresh, migrated database for one run; `url` names it.
struct fresh_db {
  std::string url;
  std::string sqlite_path;  // sqlite only
};

fresh_db fresh_sqlite(const std::string& dir, const std::string& name) {
  fresh_db d{"sqlite:" + dir + "/" + name + ".db", dir + "/" + name + ".db"};
  auto s = open_store(d.url);
  if (!s) die(s.error().message);
  if (auto m = (*s)->migrate(); !m) die(m.error().message);
  return d;
}

fresh_db fresh_mysql(const std::string& base, const std::string& name) {
  std::string url = base.substr(0, base.rfind('/') + 1) + name;
  auto parsed = store_url::parse(url);
  if (!parsed) die(parsed.error().message);
  (void)mysql_drop_database(*parsed);
  if (auto c = create_database_if_missing(*parsed); !c) die(c.error().message);
  auto s = open_store(*parsed);
  if (!s) die(s.error().message);
  if (auto m = (*s)->migrate(); !m) die(m.error().message);
  return {url, {}};
}

void drop(const fresh_db& d) {
  if (!d.sqlite_path.empty()) {
    for (const char* suffix : {"", "-wal", "-shm"}) std::remove((d.sqlite_path + suffix).c_str());
    return;
  }
  if (auto u = store_url::parse(d.url)) (void)mysql_drop_database(*u);
}

std::size_t count_rows(const fresh_db& d) {
  auto s = open_store(d.url);
  if (!s) die(s.error().message);
  auto n = (*s)->count_reports();
  if (!n) die(n.error().message);
  return *n;
}

// --- the writer -----------------------------------------------------------

double run_writer(const fresh_db& d, const std::vector<status_report>& reports,
                  writer_options options, std::uint64_t& batches) {
  std::atomic<std::size_t> ok{0}, failed{0};
  // Built before the clock starts, as the raw runs' rows are: a server
  // builds each report anyway, and hands it over by move.
  std::vector<write_item> items(reports.begin(), reports.end());
  auto start = clock_type::now();
  {
    store_writer w([url = d.url] { return open_store(url); }, options);
    for (write_item& item : items)
      w.submit_wait(std::move(item), [&](const result<void>& res) { (res ? ok : failed)++; });
    w.flush();
    batches = w.stats().batches;
  }
  double s = seconds_since(start);
  if (ok != reports.size() || failed != 0) die("writer: completions missing or failed");
  return s;
}

// --- raw SQLite -----------------------------------------------------------

// The same rows through the sqlite3 API: prepared multi-row INSERTs of
// `per_stmt` rows, one transaction per `per_txn` rows, the store's pragmas.
double raw_sqlite(const fresh_db& d, const std::vector<status_report>& reports,
                  std::size_t per_stmt, std::size_t per_txn) {
  sqlite3* db = nullptr;
  if (sqlite3_open(d.sqlite_path.c_str(), &db) != SQLITE_OK) die("sqlite open");
  for (const char* pragma : sqlite_pragmas()) sqlite3_exec(db, pragma, nullptr, nullptr, nullptr);
  auto prepare = [&](std::size_t rows) {
    std::string sql =
        multi_row_sql(readings_head, row_params, rows, "ON CONFLICT (room, stanza_id) DO NOTHING");
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) != SQLITE_OK) die(sqlite3_errmsg(db));
    return s;
  };
  auto start = clock_type::now();
  sqlite3_stmt* full = prepare(per_stmt);
  for (std::size_t txn = 0; txn < reports.size(); txn += per_txn) {
    sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
    std::size_t txn_end = std::min(reports.size(), txn + per_txn);
    for (std::size_t i = txn; i < txn_end; i += per_stmt) {
      std::size_t n = std::min(per_stmt, txn_end - i);
      sqlite3_stmt* s = n == per_stmt ? full : prepare(n);
      int p = 1;
      for (std::size_t k = i; k < i + n; ++k) {
        const status_report& r = reports[k];
        sqlite3_bind_text(s, p++, r.device_jid.data(), static_cast<int>(r.device_jid.size()),
                          SQLITE_STATIC);
        sqlite3_bind_text(s, p++, r.room.data(), static_cast<int>(r.room.size()), SQLITE_STATIC);
        sqlite3_bind_int64(s, p++, micros(r.taken_at.utc));
        sqlite3_bind_int64(s, p++, r.taken_at.offset_minutes);
        sqlite3_bind_int64(s, p++, micros(r.received_at));
        for (int v = 0; v < 3; ++v) sqlite3_bind_double(s, p++, r.values[v].value);
        sqlite3_bind_null(s, p++);
        sqlite3_bind_text(s, p++, r.stanza_id.data(), static_cast<int>(r.stanza_id.size()),
                          SQLITE_STATIC);
      }
      if (sqlite3_step(s) != SQLITE_DONE) die(sqlite3_errmsg(db));
      sqlite3_reset(s);
      if (s != full) sqlite3_finalize(s);
    }
    if (sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) die(sqlite3_errmsg(db));
  }
  double secs = seconds_since(start);
  sqlite3_finalize(full);
  sqlite3_close(db);
  return secs;
}

// --- raw MySQL ------------------------------------------------------------

std::unique_ptr<sql::Connection> mysql_connect(const std::string& url_text) {
  auto url = store_url::parse(url_text);
  if (!url) die(url.error().message);
  // The store's own connection and session settings, so both sides run alike.
  return mysql_raw_connection(*url);
}

const char* mysql_tail = "ON DUPLICATE KEY UPDATE id = id";

// Prepared multi-row INSERTs (binary protocol) of `per_stmt` rows.
double raw_mysql_prepared(const fresh_db& d, const std::vector<status_report>& reports,
                          std::size_t per_stmt, std::size_t per_txn) {
  auto c = mysql_connect(d.url);
  std::unique_ptr<sql::Statement> st(c->createStatement());
  auto start = clock_type::now();
  std::unique_ptr<sql::PreparedStatement> full(
      c->prepareStatement(multi_row_sql(readings_head, row_params, per_stmt, mysql_tail)));
  for (std::size_t txn = 0; txn < reports.size(); txn += per_txn) {
    st->execute("START TRANSACTION");
    std::size_t txn_end = std::min(reports.size(), txn + per_txn);
    for (std::size_t i = txn; i < txn_end; i += per_stmt) {
      std::size_t n = std::min(per_stmt, txn_end - i);
      std::unique_ptr<sql::PreparedStatement> part;
      sql::PreparedStatement* s = full.get();
      if (n != per_stmt) {
        part.reset(c->prepareStatement(multi_row_sql(readings_head, row_params, n, mysql_tail)));
        s = part.get();
      }
      unsigned p = 1;
      for (std::size_t k = i; k < i + n; ++k) {
        const status_report& r = reports[k];
        s->setString(p++, r.device_jid);
        s->setString(p++, r.room);
        s->setInt64(p++, micros(r.taken_at.utc));
        s->setInt64(p++, r.taken_at.offset_minutes);
        s->setInt64(p++, micros(r.received_at));
        for (int v = 0; v < 3; ++v) s->setDouble(p++, r.values[v].value);
        s->setNull(p++, sql::DataType::VARCHAR);
        s->setString(p++, r.stanza_id);
      }
      s->executeUpdate();
    }
    st->execute("COMMIT");
  }
  return seconds_since(start);
}

// Plain-text multi-row INSERTs (no prepare), values written into the SQL.
double raw_mysql_text(const fresh_db& d, const std::vector<status_report>& reports,
                      std::size_t per_stmt, std::size_t per_txn) {
  auto c = mysql_connect(d.url);
  std::unique_ptr<sql::Statement> st(c->createStatement());
  auto quoted = [](std::string& sql, const std::string& v) {
    sql += '\'';
    for (char ch : v) {
      if (ch == '\'' || ch == '\\') sql += '\\';
      sql += ch;
    }
    sql += '\'';
  };
  auto start = clock_type::now();
  std::string sql;
  for (std::size_t txn = 0; txn < reports.size(); txn += per_txn) {
    st->execute("START TRANSACTION");
    std::size_t txn_end = std::min(reports.size(), txn + per_txn);
    for (std::size_t i = txn; i < txn_end; i += per_stmt) {
      std::size_t n = std::min(per_stmt, txn_end - i);
      sql = readings_head + " VALUES ";
      for (std::size_t k = i; k < i + n; ++k) {
        const status_report& r = reports[k];
        if (k != i) sql += ',';
        sql += '(';
        quoted(sql, r.device_jid);
        sql += ',';
        quoted(sql, r.room);
        sql += ',' + std::to_string(micros(r.taken_at.utc)) + ',' +
               std::to_string(r.taken_at.offset_minutes) + ',' +
               std::to_string(micros(r.received_at));
        for (int v = 0; v < 3; ++v) sql += ',' + std::to_string(r.values[v].value);
        sql += ",NULL,";
        quoted(sql, r.stanza_id);
        sql += ')';
      }
      sql += ' ';
      sql += mysql_tail;
      st->execute(sql);
    }
    st->execute("COMMIT");
  }
  return seconds_since(start);
}

// --- driver ---------------------------------------------------------------

struct variant {
  std::string name;
  std::function<double(const fresh_db&)> run;
};

// Runs each raw variant and the writer on fresh databases, `rounds` times
// interleaved (the machine may be shared), and prints the best rate of each.
// With writer_only, runs the writer alone (for profiling).
void bench_engine(const std::string& engine, const std::vector<status_report>& reports,
                  const std::function<fresh_db(const std::string&)>& make,
                  std::vector<variant> raws, writer_options options, int rounds, bool writer_only) {
  std::size_t n = reports.size();
  std::uint64_t batches = 0;
  if (writer_only) raws.clear();
  raws.push_back(
      {"writer", [&](const fresh_db& d) { return run_writer(d, reports, options, batches); }});
  std::vector<double> best(raws.size(), 0);
  int serial = 0;
  for (int round = 0; round < rounds; ++round)
    for (std::size_t k = 0; k < raws.size(); ++k) {
      // Each round starts with another variant, so that none always runs
      // right after the same neighbour; sync() lets the previous run's
      // dirty pages reach the disk before the next one starts its clock.
      std::size_t v = (k + static_cast<std::size_t>(round)) % raws.size();
      fresh_db d = make(std::string("r").append(std::to_string(serial++)));  // GCC 12 -Wrestrict
      ::sync();
      double s = raws[v].run(d);
      std::size_t rows = count_rows(d);
      drop(d);
      if (rows != n) die(raws[v].name + ": " + std::to_string(rows) + " rows stored");
      best[v] = std::max(best[v], n / s);
    }
  std::printf("%s, %zu status reports, best of %d\n", engine.c_str(), n, rounds);
  std::size_t best_raw = 0;
  for (std::size_t v = 0; v + 1 < raws.size(); ++v) {
    std::printf("  raw    %-48s %9.0f rows/s\n", raws[v].name.c_str(), best[v]);
    if (best[v] > best[best_raw]) best_raw = v;
  }
  std::string shape = "store_writer, queue " + std::to_string(options.queue_capacity) +
                      ", max_batch " + std::to_string(options.max_batch) + ", " +
                      std::to_string(batches) + " COMMITs";
  std::printf("  writer %-48s %9.0f rows/s\n", shape.c_str(), best.back());
  if (raws.size() > 1)
    std::printf("  => writer / best raw (%s) = %.0f%%\n", raws[best_raw].name.c_str(),
                100 * best.back() / best[best_raw]);
  std::printf("\n");
  std::fflush(stdout);
}

std::string script_path() {
  return (std::filesystem::path(__FILE__).parent_path().parent_path() / "scripts" / "test-mariadb")
      .string();
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t rows = 100000;
  std::string engine = "both";
  std::size_t max_batch = 0;
  int rounds = 3;
  std::size_t queue = 0;
  bool writer_only = false;  // for profiling the writer alone
  const char* env = std::getenv("IOTXMPP_BENCH_MYSQL");
  std::string mysql = env ? env : "";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--rows" && i + 1 < argc)
      rows = std::stoul(argv[++i]);
    else if (a == "--engine" && i + 1 < argc)
      engine = argv[++i];
    else if (a == "--mysql" && i + 1 < argc)
      mysql = argv[++i];
    else if (a == "--max-batch" && i + 1 < argc)
      max_batch = std::stoul(argv[++i]);
    else if (a == "--rounds" && i + 1 < argc)
      rounds = std::stoi(argv[++i]);
    else if (a == "--queue" && i + 1 < argc)
      queue = std::stoul(argv[++i]);
    else if (a == "--writer-only")
      writer_only = true;
    else
      die("usage: store_bench [--rows N] [--engine sqlite|mysql|both] [--mysql URL] [--max-batch "
          "N] [--queue N] [--rounds R]\n"
          "                   [--writer-only]");
  }
  std::string tmp = (std::filesystem::temp_directory_path() / "iotxmpp_bench_XXXXXX").string();
  if (!mkdtemp(tmp.data())) die("mkdtemp failed");
  auto reports = make_reports(rows);
  writer_options options;  // the server's defaults, unless --max-batch
  if (max_batch) options.max_batch = max_batch;
  if (queue) options.queue_capacity = queue;

  if (engine == "sqlite" || engine == "both") {
    std::vector<variant> raws;
    for (std::size_t per_stmt : {256, 1000})
      for (std::size_t per_txn : {options.max_batch, rows})
        raws.push_back(
            {std::to_string(per_stmt) + " rows/INSERT, " + std::to_string(per_txn) + " rows/COMMIT",
             [&, per_stmt, per_txn](const fresh_db& d) {
               return raw_sqlite(d, reports, per_stmt, per_txn);
             }});
    bench_engine(
        "SQLite (WAL, synchronous=FULL)", reports,
        [&](const std::string& name) { return fresh_sqlite(tmp, name); }, raws, options, rounds,
        writer_only);
  }

  bool own_server = false;
  if ((engine == "mysql" || engine == "both") && mysql.empty()) {
    std::string cmd = script_path() + " start " + tmp + "/mariadb >/dev/null";
    if (std::system(cmd.c_str()) != 0) die("could not start MariaDB with " + script_path());
    std::ifstream in(tmp + "/mariadb/url");
    std::getline(in, mysql);
    own_server = true;
  }
  if (engine == "mysql" || engine == "both") {
    std::vector<variant> raws;
    for (std::size_t per_stmt : {256, 1000})
      for (std::size_t per_txn : {options.max_batch, rows}) {
        std::string shape =
            std::to_string(per_stmt) + " rows/INSERT, " + std::to_string(per_txn) + " rows/COMMIT";
        raws.push_back({"prepared " + shape, [&, per_stmt, per_txn](const fresh_db& d) {
                          return raw_mysql_prepared(d, reports, per_stmt, per_txn);
                        }});
        if (per_stmt == 256)  // text statements of 1000 rows never win
          raws.push_back({"text " + shape, [&, per_stmt, per_txn](const fresh_db& d) {
                            return raw_mysql_text(d, reports, per_stmt, per_txn);
                          }});
      }
    try {
      bench_engine(
          "MariaDB (InnoDB)", reports,
          [&](const std::string& name) {
            return fresh_mysql(mysql, "iotxmpp_bench_" + name + "_" + std::to_string(getpid()));
          },
          raws, options, rounds, writer_only);
    } catch (const sql::SQLException& e) {
      std::fprintf(stderr, "store_bench: MySQL error %d\n", e.getErrorCode());
    }
  }
  if (own_server) std::system((script_path() + " stop " + tmp + "/mariadb >/dev/null").c_str());
  std::filesystem::remove_all(tmp);
  return 0;
}
