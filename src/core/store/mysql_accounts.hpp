#pragma once
// Device accounts in MySQL / MariaDB: the account half of the store
// interface (store.hpp states the contract) on mysql_store's connection.
// Each call that changes accounts is one transaction, its account_events row
// included, retried a few times after a deadlock; record_logins writes
// inside the caller's transaction (apply). Internal to the store layer (it
// includes Connector/C++, through mysql_statements.hpp).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/store/mysql_statements.hpp"
#include "core/store/store.hpp"

namespace iotxmpp {

class mysql_accounts {
 public:
  // `conn` must outlive this object; `url` names the database in messages.
  mysql_accounts(sql::Connection& conn, store_url url);
  ~mysql_accounts();

  result<void> add(const std::vector<account>& accounts);
  result<std::optional<account>> find(std::string_view name);
  result<std::vector<account>> list();
  result<bool> set_credentials(std::string_view name,
                               const std::vector<account_credentials>& creds);
  result<bool> set_disabled(std::string_view name, bool disabled);
  result<bool> grant(std::string_view name, const std::vector<std::string>& rooms);
  result<bool> revoke(std::string_view name, const std::vector<std::string>& rooms);
  result<bool> remove(std::string_view name);
  result<std::int64_t> last_event();
  result<std::vector<account_event>> events_after(std::int64_t id, std::size_t limit);

  // Moves last_login forward, inside the caller's open transaction. Throws
  // sql::SQLException (the caller's guard turns it into an error).
  void record_logins(const std::vector<account_login>& logins);

  // Drops the cached statements (a migration may change their tables).
  void forget_statements();

  enum class sql_id : int;

 private:
  // Runs `body` in a transaction, rolled back when it throws; retried after
  // a deadlock or lock wait timeout. Connector/C++ errors become `error`s.
  template <class T, class Body>
  result<T> in_transaction(std::string_view doing, Body&& body);
  template <class T, class Body>
  result<T> guarded(std::string_view doing, Body&& body);
  bool exists_locked(std::string_view name);
  void add_event(std::string_view name, account_event::what kind);
  void insert_credentials(std::string_view name, const std::vector<account_credentials>& creds);
  std::vector<account> read_accounts(std::string_view only);
  std::string first_taken(const std::vector<account>& accounts);

  sql::Connection& conn_;
  store_url url_;
  mysql_statements<sql_id> stmts_;
};

}  // namespace iotxmpp
