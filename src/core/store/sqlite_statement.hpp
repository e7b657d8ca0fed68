#pragma once
// What the SQLite store's files share about statements: ownership, a cache
// of prepared statements with the steps every part runs, binding parameters
// in order, the reset that ends a statement's read snapshot, how a result
// code maps to an error kind (store.hpp lists them), and the plain column
// conversions. Internal to the store layer.

#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "core/base/clock.hpp"
#include "core/base/error.hpp"
#include "core/store/store_rows.hpp"

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

// Text or blob column `col` as bytes ("" for NULL).
std::string sqlite_column_bytes(sqlite3_stmt* s, int col);
// Column `col` as a double, nullopt for NULL.
inline std::optional<double> sqlite_column_double(sqlite3_stmt* s, int col) {
  if (sqlite3_column_type(s, col) == SQLITE_NULL) return std::nullopt;
  return sqlite3_column_double(s, col);
}

// The current row of a statement, its columns numbered from 0.
class sqlite_row {
 public:
  explicit sqlite_row(sqlite3_stmt* s) : s_(s) {}
  std::string text(int col) const { return sqlite_column_bytes(s_, col); }
  std::int64_t integer(int col) const { return sqlite3_column_int64(s_, col); }
  std::optional<double> number(int col) const { return sqlite_column_double(s_, col); }
  bool boolean(int col) const { return sqlite3_column_int(s_, col) != 0; }
  bool is_null(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }

 private:
  sqlite3_stmt* s_;
};

// Binds a statement's parameters in order, from the first. The data must
// outlive the statement's steps: SQLite does not copy it (SQLITE_STATIC).
class sqlite_params {
 public:
  explicit sqlite_params(sqlite3_stmt* s) : s_(s) {}
  sqlite_params& text(std::string_view v) {
    sqlite3_bind_text(s_, i_++, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    return *this;
  }
  sqlite_params& blob(std::string_view v) {
    sqlite3_bind_blob(s_, i_++, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    return *this;
  }
  // NULL for "".
  sqlite_params& text_or_null(std::string_view v) {
    if (v.empty()) return null();
    return text(v);
  }
  // NULL for nullopt.
  sqlite_params& number(std::optional<double> v) {
    if (!v) return null();
    sqlite3_bind_double(s_, i_++, *v);
    return *this;
  }
  sqlite_params& integer(std::int64_t v) {
    sqlite3_bind_int64(s_, i_++, v);
    return *this;
  }
  sqlite_params& boolean(bool v) { return integer(v ? 1 : 0); }
  sqlite_params& null() {
    sqlite3_bind_null(s_, i_++);
    return *this;
  }
  // The same NULL for every column type (the engine-neutral row binders in
  // store_rows.hpp name the type).
  sqlite_params& null_text() { return null(); }
  sqlite_params& null_integer() { return null(); }

 private:
  sqlite3_stmt* s_;
  int i_ = 1;
};

// Prepares `text` on `db` into `out` (SQLITE_PREPARE_PERSISTENT); SQLite's
// result code.
int sqlite_prepare(sqlite3* db, const std::string& text, sqlite_stmt_ptr& out);

// The prepared statements of one part of the store, by (id, n), each
// prepared on first use from text(id, n): `n` is what varies the text (a
// multi-row INSERT's rows), the same value for a statement whose text does
// not vary. Failures are errors led by `where` (the redacted URL). `db` must
// outlive the cache.
template <class Id>
class sqlite_statements {
 public:
  using text_of = std::string (*)(Id id, std::size_t n);
  sqlite_statements(sqlite3* db, std::string where, text_of text)
      : db_(db), where_(std::move(where)), text_(text) {}

  result<sqlite3_stmt*> get(Id id, std::size_t n = 1) {
    auto& slot = stmts_[{id, n}];
    if (!slot) {
      if (int rc = sqlite_prepare(db_, text_(id, n), slot); rc != SQLITE_OK) {
        stmts_.erase({id, n});
        return failure(rc);
      }
    }
    return slot.get();
  }
  // Finalizes the statements (a migration may change their tables; the
  // connection closes only once they are).
  void clear() { stmts_.clear(); }

  std::unexpected<error> failure(int rc) const { return sqlite_failure(db_, where_, rc); }
  // Steps `s` once and resets it: done, or a row (not read).
  result<void> step_done(sqlite3_stmt* s) const {
    sqlite_reset_on_exit reset{s};
    int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE || rc == SQLITE_ROW) return {};
    return failure(rc);
  }
  // step_done, then how many rows the statement changed.
  result<std::size_t> changes(sqlite3_stmt* s) const {
    if (auto r = step_done(s); !r) return std::unexpected(r.error());
    return static_cast<std::size_t>(sqlite3_changes(db_));
  }
  // Runs statement `id`, which has no parameters and gives no rows.
  result<void> run(Id id) {
    auto s = get(id);
    if (!s) return std::unexpected(s.error());
    return step_done(*s);
  }
  // Steps `s` to its end, calling row(s) at each row, and resets it.
  template <class Row>
  result<void> each_row(sqlite3_stmt* s, Row&& row) const {
    sqlite_reset_on_exit reset{s};
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) row(s);
    if (rc != SQLITE_DONE) return failure(rc);
    return {};
  }
  // Column 0 of the one row statement `id` (no parameters) gives.
  result<std::int64_t> single_int(Id id) {
    auto s = get(id);
    if (!s) return std::unexpected(s.error());
    sqlite_reset_on_exit reset{*s};
    int rc = sqlite3_step(*s);
    if (rc != SQLITE_ROW) return failure(rc);
    return static_cast<std::int64_t>(sqlite3_column_int64(*s, 0));
  }

  // Writes `rows` rows with one multi-row statement `id` per chunk of
  // statement_chunks(rows, max_rows): bind_row(params, i) binds row i, and
  // step(stmt) runs the chunk's statement (step_done when not given).
  template <class BindRow, class Step>
  result<void> insert_rows(Id id, std::size_t rows, std::size_t max_rows, BindRow&& bind_row,
                           Step&& step) {
    std::size_t done = 0;
    for (std::size_t n : statement_chunks(rows, max_rows)) {
      auto s = get(id, n);
      if (!s) return std::unexpected(s.error());
      sqlite_params p(*s);
      for (std::size_t i = 0; i < n; ++i) bind_row(p, done + i);
      if (auto r = step(*s); !r) return r;
      done += n;
    }
    return {};
  }
  template <class BindRow>
  result<void> insert_rows(Id id, std::size_t rows, std::size_t max_rows, BindRow&& bind_row) {
    return insert_rows(id, rows, max_rows, std::forward<BindRow>(bind_row),
                       [this](sqlite3_stmt* s) { return step_done(s); });
  }

 private:
  sqlite3* db_;
  std::string where_;
  text_of text_;
  std::map<std::pair<Id, std::size_t>, sqlite_stmt_ptr> stmts_;
};

}  // namespace iotxmpp
