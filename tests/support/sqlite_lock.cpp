#include "support/sqlite_lock.hpp"

#include <sqlite3.h>

#include <stdexcept>

namespace iotxmpp::test {
namespace {

std::string path_of(std::string_view url) {
  constexpr std::string_view scheme = "sqlite:";
  if (url.substr(0, scheme.size()) == scheme) url.remove_prefix(scheme.size());
  return std::string(url);
}

sqlite3* open_connection(std::string_view url) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path_of(url).c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    std::string why = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    throw std::runtime_error("cannot open " + std::string(url) + ": " + why);
  }
  sqlite3_busy_timeout(db, 30'000);
  return db;
}

void exec(sqlite3* db, const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    std::string why = message ? message : sqlite3_errmsg(db);
    sqlite3_free(message);
    throw std::runtime_error(std::string(sql) + ": " + why);
  }
}

}  // namespace

sqlite_lock::sqlite_lock(std::string_view url) : db_(open_connection(url)) {}

sqlite_lock::~sqlite_lock() {
  try {
    release();
  } catch (const std::exception&) {
  }
  sqlite3_close(db_);
}

void sqlite_lock::hold() {
  if (held_) return;
  exec(db_, "BEGIN EXCLUSIVE");
  held_ = true;
}

void sqlite_lock::release() {
  if (!held_) return;
  held_ = false;
  exec(db_, "COMMIT");
}

std::vector<std::string> stored_report_ids(std::string_view url) {
  sqlite3* db = open_connection(url);
  sqlite3_stmt* st = nullptr;
  std::vector<std::string> ids;
  if (sqlite3_prepare_v2(db, "SELECT stanza_id FROM readings WHERE stanza_id IS NOT NULL", -1, &st,
                         nullptr) != SQLITE_OK) {
    std::string why = sqlite3_errmsg(db);
    sqlite3_close(db);
    throw std::runtime_error("reading the report ids: " + why);
  }
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW)
    ids.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
  sqlite3_finalize(st);
  sqlite3_close(db);
  if (rc != SQLITE_DONE) throw std::runtime_error("reading the report ids failed");
  return ids;
}

}  // namespace iotxmpp::test
