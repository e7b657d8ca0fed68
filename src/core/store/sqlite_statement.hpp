#pragma once
// What the SQLite store's files share about statements: ownership, the
// reset that ends a statement's read snapshot, how a result code maps to an
// error kind (store.hpp lists them), and the plain column conversions.
// Internal to the store layer.

#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/base/clock.hpp"
#include "core/base/error.hpp"

namespace iotxmpp {

struct sqlite_stmt_deleter {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using sqlite_stmt_ptr = std::unique_ptr<sqlite3_stmt, sqlite_stmt_deleter>;

// Resets a statement on scope exit: an unfinished statement would keep its
// read snapshot (and in WAL mode block checkpoints) until the next use.
struct sqlite_reset_on_exit {
  sqlite3_stmt* s;
  ~sqlite_reset_on_exit() { sqlite3_reset(s); }
};

// busy / locked: timeout; disk trouble: io; anything else: database.
error_kind sqlite_error_kind(int rc);

// The error for result code `rc` on `db`: "`where`: SQLite's message", with a
// hint to run db-init when a table is missing.
std::unexpected<error> sqlite_failure(sqlite3* db, std::string_view where, int rc);

inline std::int64_t sqlite_micros(sys_micros t) { return t.time_since_epoch().count(); }
inline sys_micros sqlite_from_micros(std::int64_t v) {
  return sys_micros(std::chrono::microseconds(v));
}

// Text or blob column `col` as bytes ("" for NULL).
std::string sqlite_column_bytes(sqlite3_stmt* s, int col);

}  // namespace iotxmpp
