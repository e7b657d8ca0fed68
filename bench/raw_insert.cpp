// iotxmpp_raw_insert: the best multi-row INSERT rate a plain client gets into
// the readings table (made by `iotxmpp db-init`), the reference that the
// server's durable ingest is measured against. Same durability as the
// server: SQLite in WAL with synchronous=FULL, MariaDB as configured
// (InnoDB commits flushed). Tries a few statement and transaction sizes
// (and, on MariaDB, prepared and literal statements) and prints JSON.
//
//   iotxmpp_raw_insert --db sqlite:/path/db | mysql://... [--rows 100000] [--tag T]

#include <cppconn/exception.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <cppconn/statement.h>
#include <mysql_connection.h>
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <functional>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/store/mysql_store.hpp"
#include "core/store/store.hpp"

namespace {

using clock_type = std::chrono::steady_clock;

constexpr const char* columns =
    "INSERT INTO readings (device_jid, room, taken_at_utc, utc_offset_minutes, received_at,"
    " temperature, humidity, brightness, extra, stanza_id) VALUES ";

struct config {
  std::size_t stmt_rows, txn_rows;
  bool literal;  // MariaDB: values in the text instead of bound parameters
};

struct row {
  std::string jid, room, id;
  long long at;
};

row make_row(const std::string& tag, std::size_t cfg, std::size_t i) {
  return {"40000@127.0.0.1/raw", "raw-" + std::to_string(i % 50),
          tag + "-" + std::to_string(cfg) + "-" + std::to_string(i),
          1'700'000'000'000'000LL + static_cast<long long>(i)};
}

std::string placeholders(std::size_t rows) {
  std::string s = columns;
  for (std::size_t r = 0; r < rows; ++r)
    s += r ? ",(?,?,?,?,?,?,?,?,NULL,?)" : "(?,?,?,?,?,?,?,?,NULL,?)";
  return s;
}

void check(int rc, sqlite3* db, const char* what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
    throw std::runtime_error(std::string(what) + ": " + sqlite3_errmsg(db));
}

// Inserts `rows` rows with config `c`; returns the seconds taken.
double sqlite_run(sqlite3* db, const config& c, std::size_t rows, const std::string& tag,
                  std::size_t cfg) {
  sqlite3_stmt* full = nullptr;
  check(sqlite3_prepare_v2(db, placeholders(c.stmt_rows).c_str(), -1, &full, nullptr), db,
        "prepare");
  std::vector<row> batch;
  auto t0 = clock_type::now();
  std::size_t done = 0;
  while (done < rows) {
    check(sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), db, "begin");
    std::size_t txn_end = std::min(rows, done + c.txn_rows);
    while (done < txn_end) {
      std::size_t n = std::min(c.stmt_rows, txn_end - done);
      sqlite3_stmt* s = full;
      if (n != c.stmt_rows)
        check(sqlite3_prepare_v2(db, placeholders(n).c_str(), -1, &s, nullptr), db, "prepare");
      batch.clear();
      for (std::size_t r = 0; r < n; ++r) batch.push_back(make_row(tag, cfg, done + r));
      int p = 1;
      for (auto& b : batch) {
        sqlite3_bind_text(s, p++, b.jid.data(), static_cast<int>(b.jid.size()), SQLITE_STATIC);
        sqlite3_bind_text(s, p++, b.room.data(), static_cast<int>(b.room.size()), SQLITE_STATIC);
        sqlite3_bind_int64(s, p++, b.at);
        sqlite3_bind_int64(s, p++, 60);
        sqlite3_bind_int64(s, p++, b.at);
        sqlite3_bind_double(s, p++, 21.5);
        sqlite3_bind_double(s, p++, 40.2);
        sqlite3_bind_double(s, p++, 310);
        sqlite3_bind_text(s, p++, b.id.data(), static_cast<int>(b.id.size()), SQLITE_STATIC);
      }
      check(sqlite3_step(s), db, "insert");
      sqlite3_reset(s);
      if (s != full) sqlite3_finalize(s);
      done += n;
    }
    check(sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr), db, "commit");
  }
  sqlite3_finalize(full);
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

long long sqlite_count(sqlite3* db) {
  sqlite3_stmt* s = nullptr;
  check(sqlite3_prepare_v2(db, "SELECT count(*) FROM readings", -1, &s, nullptr), db, "count");
  sqlite3_step(s);
  long long n = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  return n;
}

std::string literal_sql(const std::vector<row>& batch) {
  std::string s = columns;
  char buf[512];
  for (std::size_t r = 0; r < batch.size(); ++r) {
    auto& b = batch[r];
    std::snprintf(buf, sizeof buf, "%s('%s','%s',%lld,60,%lld,21.5,40.2,310,NULL,'%s')",
                  r ? "," : "", b.jid.c_str(), b.room.c_str(), b.at, b.at, b.id.c_str());
    s += buf;
  }
  return s;
}

double mysql_run(sql::Connection& db, const config& c, std::size_t rows, const std::string& tag,
                 std::size_t cfg) {
  std::unique_ptr<sql::Statement> text(db.createStatement());
  std::unique_ptr<sql::PreparedStatement> full;
  if (!c.literal) full.reset(db.prepareStatement(placeholders(c.stmt_rows)));
  db.setAutoCommit(false);
  std::vector<row> batch;
  auto t0 = clock_type::now();
  std::size_t done = 0;
  while (done < rows) {
    std::size_t txn_end = std::min(rows, done + c.txn_rows);
    while (done < txn_end) {
      std::size_t n = std::min(c.stmt_rows, txn_end - done);
      batch.clear();
      for (std::size_t r = 0; r < n; ++r) batch.push_back(make_row(tag, cfg, done + r));
      if (c.literal) {
        text->execute(literal_sql(batch));
      } else {
        std::unique_ptr<sql::PreparedStatement> part;
        if (n != c.stmt_rows) part.reset(db.prepareStatement(placeholders(n)));
        sql::PreparedStatement& s = part ? *part : *full;
        unsigned p = 1;
        for (auto& b : batch) {
          s.setString(p++, b.jid);
          s.setString(p++, b.room);
          s.setInt64(p++, b.at);
          s.setInt(p++, 60);
          s.setInt64(p++, b.at);
          s.setDouble(p++, 21.5);
          s.setDouble(p++, 40.2);
          s.setDouble(p++, 310);
          s.setString(p++, b.id);
        }
        s.executeUpdate();
      }
      done += n;
    }
    db.commit();
  }
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

long long mysql_count(sql::Connection& db) {
  std::unique_ptr<sql::Statement> s(db.createStatement());
  std::unique_ptr<sql::ResultSet> r(s->executeQuery("SELECT count(*) FROM readings"));
  r->next();
  return r->getInt64(1);
}

int run(int argc, char** argv) {
  std::string db_url, tag = "raw" + std::to_string(time(nullptr)) + "p" + std::to_string(getpid());
  std::size_t rows = 100000;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--db")
      db_url = v;
    else if (k == "--rows")
      rows = std::stoul(v);
    else if (k == "--tag")
      tag = v;
    else
      throw std::invalid_argument("unknown option " + k);
  }
  auto url = iotxmpp::store_url::parse(db_url);
  if (!url)
    throw std::invalid_argument("usage: iotxmpp_raw_insert --db URL [--rows N] [--tag T]: " +
                                url.error().message);
  const bool mysql = url->kind == iotxmpp::store_url::engine::mysql;
  std::vector<config> configs = {
      {64, 2000, false}, {256, 2000, false}, {1000, 2000, false}, {1000, 20000, false}};
  if (mysql)
    for (auto c : std::vector<config>(configs)) configs.push_back({c.stmt_rows, c.txn_rows, true});

  sqlite3* lite = nullptr;
  std::unique_ptr<sql::Connection> my;
  std::function<double(const config&, std::size_t)> insert;
  std::function<long long()> count;
  if (mysql) {
    my = iotxmpp::mysql_raw_connection(*url);
    insert = [&](const config& c, std::size_t cfg) { return mysql_run(*my, c, rows, tag, cfg); };
    count = [&] { return mysql_count(*my); };
  } else {
    if (sqlite3_open_v2(url->path.c_str(), &lite, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK)
      throw std::runtime_error("cannot open " + url->path);
    check(sqlite3_exec(lite, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL", nullptr, nullptr,
                       nullptr),
          lite, "pragma");
    insert = [&](const config& c, std::size_t cfg) { return sqlite_run(lite, c, rows, tag, cfg); };
    count = [&] { return sqlite_count(lite); };
  }
  std::string out = "{\"db\":\"" + url->redacted() +
                    "\",\"rows_per_config\":" + std::to_string(rows) + ",\"configs\":[";
  double best = 0;
  std::string best_name;
  for (std::size_t i = 0; i < configs.size(); ++i) {
    const config& c = configs[i];
    long long before = count();
    double s = insert(c, i);
    long long added = count() - before;
    double rate = added == static_cast<long long>(rows) ? static_cast<double>(rows) / s : 0;
    std::string name = std::to_string(c.stmt_rows) + " rows/statement, " +
                       std::to_string(c.txn_rows) + " rows/transaction" +
                       (mysql ? (c.literal ? ", literal" : ", prepared") : "");
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  "%s{\"config\":\"%s\",\"seconds\":%.4f,\"rows_added\":%lld,\"rows_per_s\":%.1f}",
                  i ? "," : "", name.c_str(), s, added, rate);
    out += buf;
    if (rate > best) {
      best = rate;
      best_name = name;
    }
  }
  char buf[256];
  std::snprintf(buf, sizeof buf, "],\"best_rows_per_s\":%.1f,\"best_config\":\"%s\"}", best,
                best_name.c_str());
  out += buf;
  std::cout << out << std::endl;
  if (lite) sqlite3_close(lite);
  return best > 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const sql::SQLException& e) {
    std::cerr << "iotxmpp_raw_insert: " << e.what() << '\n';
  } catch (const std::exception& e) {
    std::cerr << "iotxmpp_raw_insert: " << e.what() << '\n';
  }
  return 2;
}
