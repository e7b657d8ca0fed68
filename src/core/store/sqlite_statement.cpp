#include "core/store/sqlite_statement.hpp"

namespace iotxmpp {

error_kind sqlite_error_kind(int rc) {
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return error_kind::timeout;
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_NOMEM:
      return error_kind::io;
    default:
      return error_kind::database;
  }
}

std::unexpected<error> sqlite_failure(sqlite3* db, std::string_view where, int rc) {
  std::string msg = std::string(where) + ": " + sqlite3_errmsg(db);
  if (msg.find("no such table") != std::string::npos) msg += " (run 'iotxmpp db-init' first)";
  return std::unexpected(error{sqlite_error_kind(rc), std::move(msg)});
}

int sqlite_prepare(sqlite3* db, const std::string& text, sqlite_stmt_ptr& out) {
  sqlite3_stmt* s = nullptr;
  int rc = sqlite3_prepare_v3(db, text.c_str(), static_cast<int>(text.size()),
                              SQLITE_PREPARE_PERSISTENT, &s, nullptr);
  out.reset(s);
  return rc;
}

std::string sqlite_column_bytes(sqlite3_stmt* s, int col) {
  // sqlite3_column_blob before sqlite3_column_bytes: the order SQLite
  // documents for getting a value and its size without a conversion.
  auto p = static_cast<const char*>(sqlite3_column_blob(s, col));
  return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(s, col))) : std::string();
}

}  // namespace iotxmpp
