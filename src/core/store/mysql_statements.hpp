#pragma once
// What the parts of the MySQL / MariaDB store (mysql_store, mysql_accounts,
// mysql_nodes) share about statements: a cache of prepared statements,
// binding parameters in order, reading nullable columns, turning
// Connector/C++ exceptions into errors, and the retry after a deadlock.
// Internal to the store layer: it includes Connector/C++, so only the
// store's mysql_* files include it.

#include <cppconn/datatype.h>
#include <cppconn/exception.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <mysql_connection.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>

#include "core/base/clock.hpp"
#include "core/store/mysql_error.hpp"
#include "core/store/store.hpp"
#include "core/store/store_rows.hpp"

namespace iotxmpp {

// Binds a statement's parameters in order, from the first. Strings go as
// bytes: Connector/C++ sends them with their length, so binary credentials
// survive as they are.
class mysql_params {
 public:
  explicit mysql_params(sql::PreparedStatement* s) : s_(s) {}
  mysql_params& text(std::string_view v) {
    s_->setString(i_++, sql::SQLString(v.data(), v.size()));
    return *this;
  }
  // NULL for "".
  mysql_params& text_or_null(std::string_view v) {
    if (v.empty()) return null(sql::DataType::VARCHAR);
    return text(v);
  }
  // NULL for nullopt.
  mysql_params& number(std::optional<double> v) {
    if (!v) return null(sql::DataType::DOUBLE);
    s_->setDouble(i_++, *v);
    return *this;
  }
  mysql_params& integer(std::int64_t v) {
    s_->setInt64(i_++, v);
    return *this;
  }
  // Microseconds since the epoch; NULL for nullopt.
  mysql_params& micros_or_null(const std::optional<sys_micros>& v) {
    if (!v) return null(sql::DataType::BIGINT);
    return integer(to_micros(*v));
  }
  mysql_params& boolean(bool v) {
    s_->setBoolean(i_++, v);
    return *this;
  }
  // `type` is a sql::DataType.
  mysql_params& null(int type) {
    s_->setNull(i_++, type);
    return *this;
  }
  mysql_params& null_text() { return null(sql::DataType::VARCHAR); }
  mysql_params& null_integer() { return null(sql::DataType::BIGINT); }

 private:
  sql::PreparedStatement* s_;
  unsigned i_ = 1;
};

// Prepared statements by (id, n), each prepared on first use from
// text(id, n): `n` is what varies the text (a multi-row INSERT's rows, a
// LIMIT), the same value for a statement whose text does not vary. `conn`
// must outlive the cache.
template <class Id>
class mysql_statements {
 public:
  using text_of = std::string (*)(Id id, std::size_t n);
  mysql_statements(sql::Connection& conn, text_of text) : conn_(conn), text_(text) {}

  sql::PreparedStatement* get(Id id, std::size_t n = 1) {
    auto& slot = stmts_[{id, n}];
    if (!slot) slot.reset(conn_.prepareStatement(text_(id, n)));
    return slot.get();
  }
  // Drops the statements (a migration may change their tables).
  void clear() { stmts_.clear(); }

  // Writes `rows` rows with one multi-row statement `id` per chunk of
  // statement_chunks(rows, max_rows); bind_row(params, i) binds row i.
  // Throws sql::SQLException.
  template <class BindRow>
  void insert_rows(Id id, std::size_t rows, std::size_t max_rows, BindRow&& bind_row) {
    std::size_t done = 0;
    for (std::size_t n : statement_chunks(rows, max_rows)) {
      sql::PreparedStatement* s = get(id, n);
      mysql_params p(s);
      for (std::size_t i = 0; i < n; ++i) bind_row(p, done + i);
      s->executeUpdate();
      done += n;
    }
  }

 private:
  sql::Connection& conn_;
  text_of text_;
  std::map<std::pair<Id, std::size_t>, std::unique_ptr<sql::PreparedStatement>> stmts_;
};

// Column `col` as text, "" for NULL.
inline std::string mysql_text(sql::ResultSet& rs, std::uint32_t col) {
  return rs.isNull(col) ? std::string() : rs.getString(col).asStdString();
}
// Column `col` as a double, nullopt for NULL.
inline std::optional<double> mysql_number(sql::ResultSet& rs, std::uint32_t col) {
  if (rs.isNull(col)) return std::nullopt;
  return static_cast<double>(rs.getDouble(col));
}

// The current row of a result set, its columns numbered from 0 (as the
// engine-neutral row readers in store_rows.hpp number them).
class mysql_row {
 public:
  explicit mysql_row(sql::ResultSet& rs) : rs_(rs) {}
  std::string text(std::uint32_t col) const { return mysql_text(rs_, col + 1); }
  std::int64_t integer(std::uint32_t col) const { return rs_.getInt64(col + 1); }
  std::optional<double> number(std::uint32_t col) const { return mysql_number(rs_, col + 1); }
  bool boolean(std::uint32_t col) const { return rs_.getBoolean(col + 1); }
  bool is_null(std::uint32_t col) const { return rs_.isNull(col + 1); }

 private:
  sql::ResultSet& rs_;
};

// The error for a Connector/C++ exception raised while `doing` on `url`.
inline error mysql_exception_error(const store_url& url, const sql::SQLException& e,
                                   std::string_view doing) {
  return mysql_error(url, e.getErrorCode(), e.what(), doing);
}

// Runs `body`, turning a Connector/C++ exception into the error for `doing`
// on `url`. `body` returns result<T> or T; for T = void it may return
// nothing.
template <class T, class Body>
result<T> mysql_guarded(const store_url& url, std::string_view doing, Body&& body) {
  try {
    if constexpr (std::is_void_v<T> && std::is_void_v<std::invoke_result_t<Body&>>) {
      body();
      return {};
    } else {
      return body();
    }
  } catch (const sql::SQLException& e) {
    return std::unexpected(mysql_exception_error(url, e, doing));
  }
}

// How many times a write is tried when it keeps failing with a deadlock or a
// lock wait timeout (error_kind::timeout).
constexpr int mysql_deadlock_attempts = 5;

// Calls `attempt` (which returns a result) until it succeeds, fails with
// another kind than error_kind::timeout, or has been tried
// mysql_deadlock_attempts times, waiting 20 ms more before each new try.
template <class Attempt>
auto mysql_retry_deadlocks(Attempt&& attempt) -> std::invoke_result_t<Attempt&> {
  for (int tried = 1;; ++tried) {
    auto out = attempt();
    if (out || out.error().kind != error_kind::timeout || tried == mysql_deadlock_attempts)
      return out;
    std::this_thread::sleep_for(std::chrono::milliseconds(20 * tried));
  }
}

}  // namespace iotxmpp
