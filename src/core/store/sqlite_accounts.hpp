#pragma once
// Device accounts in SQLite: the account half of the store interface
// (store.hpp states the contract) on sqlite_store's connection. Each call
// that changes accounts is one IMMEDIATE transaction, its account_events row
// included; record_logins writes inside the caller's transaction (apply).
// Internal to the store layer.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/store/sqlite_statement.hpp"
#include "core/store/store.hpp"

namespace iotxmpp {

class sqlite_accounts {
 public:
  // `db` must outlive this object; `where` (the redacted URL) leads messages.
  sqlite_accounts(sqlite3* db, std::string where);

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

  // Moves last_login forward; runs inside the caller's open transaction.
  result<void> record_logins(const std::vector<account_login>& logins);

  // Finalizes the cached statements (a migration may change their tables).
  void forget_statements() { stmts_.clear(); }

  enum class sql : int;

 private:
  // Runs `body` in BEGIN IMMEDIATE ... COMMIT, rolling back when it fails.
  template <class T, class Body>
  result<T> in_transaction(Body&& body);
  result<bool> exists(std::string_view name);
  result<void> add_event(std::string_view name, account_event::what kind);
  result<void> insert_credentials(std::string_view name,
                                  const std::vector<account_credentials>& creds);
  result<std::vector<account>> read_accounts(std::string_view only);
  result<std::string> first_taken(const std::vector<account>& accounts);

  sqlite3* db_;
  std::string where_;
  sqlite_statements<sql> stmts_;
};

}  // namespace iotxmpp
