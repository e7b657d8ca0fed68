#include "core/store/sqlite_accounts.hpp"

#include <algorithm>
#include <unordered_map>

#include "core/store/store_rows.hpp"

namespace iotxmpp {

// Rows per multi-row INSERT when adding accounts (SQLite allows 32,766
// parameters; the credentials row has 6).
constexpr std::size_t max_account_rows = 256;

enum class sqlite_accounts::sql : int {
  begin,
  commit,
  rollback,
  add_account,
  add_credentials,
  add_grant,
  exists,
  accounts_all,
  accounts_one,
  credentials_all,
  credentials_one,
  grants_all,
  grants_one,
  delete_credentials,
  delete_grant,
  delete_grants,
  delete_account,
  set_disabled,
  add_event,
  last_event,
  events_after,
  login,
};

namespace {

using sql = sqlite_accounts::sql;

std::string sql_text(sql id, std::size_t rows) {
  switch (id) {
    case sql::begin:
      return "BEGIN IMMEDIATE";
    case sql::commit:
      return "COMMIT";
    case sql::rollback:
      return "ROLLBACK";
    case sql::add_account:
      return multi_row_sql("INSERT INTO accounts (name, disabled, created, last_login)",
                           "(?, ?, ?, ?)", rows);
    case sql::add_credentials:
      return multi_row_sql(
          "INSERT INTO account_credentials (name, hash, salt, iterations, stored_key, server_key)",
          "(?, ?, ?, ?, ?, ?)", rows);
    case sql::add_grant:
      return multi_row_sql("INSERT INTO account_grants (name, pattern)", "(?, ?)", rows,
                           "ON CONFLICT (name, pattern) DO NOTHING");
    case sql::exists:
      return "SELECT 1 FROM accounts WHERE name = ?1";
    case sql::accounts_all:
      return "SELECT name, disabled, created, last_login FROM accounts ORDER BY name";
    case sql::accounts_one:
      return "SELECT name, disabled, created, last_login FROM accounts WHERE name = ?1";
    case sql::credentials_all:
      return "SELECT name, hash, salt, iterations, stored_key, server_key"
             " FROM account_credentials ORDER BY name, hash";
    case sql::credentials_one:
      return "SELECT name, hash, salt, iterations, stored_key, server_key"
             " FROM account_credentials WHERE name = ?1 ORDER BY hash";
    case sql::grants_all:
      return "SELECT name, pattern FROM account_grants ORDER BY name, pattern";
    case sql::grants_one:
      return "SELECT name, pattern FROM account_grants WHERE name = ?1 ORDER BY pattern";
    case sql::delete_credentials:
      return "DELETE FROM account_credentials WHERE name = ?1";
    case sql::delete_grant:
      return "DELETE FROM account_grants WHERE name = ?1 AND pattern = ?2";
    case sql::delete_grants:
      return "DELETE FROM account_grants WHERE name = ?1";
    case sql::delete_account:
      return "DELETE FROM accounts WHERE name = ?1";
    case sql::set_disabled:
      return "UPDATE accounts SET disabled = ?2 WHERE name = ?1";
    case sql::add_event:
      return "INSERT INTO account_events (name, kind, at) VALUES (?1, ?2, ?3)";
    case sql::last_event:
      return "SELECT coalesce(max(id), 0) FROM account_events";
    case sql::events_after:
      return "SELECT id, name, kind, at FROM account_events WHERE id > ?1"
             " AND kind IN ('disabled', 'removed', 'revoked', 'password') ORDER BY id LIMIT ?2";
    case sql::login:
      return "UPDATE accounts SET last_login = ?2"
             " WHERE name = ?1 AND (last_login IS NULL OR last_login < ?2)";
  }
  return {};
}

}  // namespace

sqlite_accounts::sqlite_accounts(sqlite3* db, std::string where)
    : db_(db), where_(where), stmts_(db, std::move(where), sql_text) {}

template <class T, class Body>
result<T> sqlite_accounts::in_transaction(Body&& body) {
  if (auto r = stmts_.run(sql::begin); !r) return std::unexpected(r.error());
  result<T> out = body();
  if (out) {
    if (auto r = stmts_.run(sql::commit); !r) out = std::unexpected(r.error());
  }
  if (!out && !sqlite3_get_autocommit(db_)) (void)stmts_.run(sql::rollback);
  return out;
}

result<bool> sqlite_accounts::exists(std::string_view name) {
  auto s = stmts_.get(sql::exists);
  if (!s) return std::unexpected(s.error());
  sqlite_reset_on_exit reset{*s};
  sqlite_params p(*s);
  p.text(name);
  int rc = sqlite3_step(*s);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return stmts_.failure(rc);
}

result<void> sqlite_accounts::add_event(std::string_view name, account_event::what kind) {
  auto s = stmts_.get(sql::add_event);
  if (!s) return std::unexpected(s.error());
  sqlite_params p(*s);
  p.text(name);
  p.text(to_string(kind));
  p.integer(to_micros(clock::wall_now()));
  return stmts_.step_done(*s);
}

namespace {

struct credential_row {
  std::string_view name;
  const account_credentials* c;
};
struct grant_row {
  std::string_view name, pattern;
};

// The hash as text; salt and keys as blobs (they are bytes).
void bind_credentials(sqlite_params& p, std::string_view name, const account_credentials& c) {
  p.text(name)
      .text(c.hash)
      .blob(c.salt)
      .integer(c.iterations)
      .blob(c.stored_key)
      .blob(c.server_key);
}

}  // namespace

result<void> sqlite_accounts::insert_credentials(std::string_view name,
                                                 const std::vector<account_credentials>& creds) {
  return stmts_.insert_rows(
      sql::add_credentials, creds.size(), max_account_rows,
      [&](sqlite_params& p, std::size_t i) { bind_credentials(p, name, creds[i]); });
}

result<void> sqlite_accounts::add(const std::vector<account>& accounts) {
  if (auto twice = name_given_twice(accounts)) return fail(error_kind::usage, *twice);
  std::vector<credential_row> creds;
  std::vector<grant_row> grants;
  for (const account& a : accounts) {
    for (const account_credentials& c : a.credentials) creds.push_back({a.name, &c});
    for (const std::string& g : a.rooms) grants.push_back({a.name, g});
  }
  bool taken = false;
  auto added = in_transaction<void>([&]() -> result<void> {
    auto r = stmts_.insert_rows(
        sql::add_account, accounts.size(), max_account_rows,
        [&](sqlite_params& p, std::size_t i) {
          const account& a = accounts[i];
          p.text(a.name);
          p.integer(a.disabled ? 1 : 0);
          p.integer(to_micros(a.created));
          if (a.last_login)
            p.integer(to_micros(*a.last_login));
          else
            p.null();
        },
        [&](sqlite3_stmt* s) -> result<void> {
          sqlite_reset_on_exit reset{s};
          int rc = sqlite3_step(s);
          if (rc == SQLITE_DONE) return {};
          taken = rc == SQLITE_CONSTRAINT_PRIMARYKEY;
          return stmts_.failure(rc);
        });
    if (!r) return r;
    r = stmts_.insert_rows(
        sql::add_credentials, creds.size(), max_account_rows,
        [&](sqlite_params& p, std::size_t i) { bind_credentials(p, creds[i].name, *creds[i].c); });
    if (!r) return r;
    return stmts_.insert_rows(sql::add_grant, grants.size(), max_account_rows,
                              [&](sqlite_params& p, std::size_t i) {
                                p.text(grants[i].name);
                                p.blob(grants[i].pattern);
                              });
  });
  if (added || !taken) return added;
  auto name = first_taken(accounts);
  if (!name) return std::unexpected(name.error());
  return fail(error_kind::usage, "device " + *name + " exists");
}

result<std::string> sqlite_accounts::first_taken(const std::vector<account>& accounts) {
  for (const account& a : accounts) {
    auto e = exists(a.name);
    if (!e) return std::unexpected(e.error());
    if (*e) return a.name;
  }
  return std::string("(another process's)");  // added and removed again meanwhile
}

result<std::vector<account>> sqlite_accounts::read_accounts(std::string_view only) {
  bool one = !only.empty();
  std::vector<account> out;
  std::unordered_map<std::string, std::size_t> index;
  // A deferred transaction: the three reads see one snapshot.
  if (int rc = sqlite3_exec(db_, "BEGIN", nullptr, nullptr, nullptr); rc != SQLITE_OK)
    return stmts_.failure(rc);
  auto body = [&]() -> result<void> {
    auto read = [&](sql id, auto&& row) -> result<void> {
      auto st = stmts_.get(id);
      if (!st) return std::unexpected(st.error());
      if (one) sqlite_params(*st).text(only);
      return stmts_.each_row(*st, row);
    };
    auto r = read(one ? sql::accounts_one : sql::accounts_all, [&](sqlite3_stmt* st) {
      account a;
      a.name = sqlite_column_bytes(st, 0);
      a.disabled = sqlite3_column_int(st, 1) != 0;
      a.created = from_micros(sqlite3_column_int64(st, 2));
      if (sqlite3_column_type(st, 3) != SQLITE_NULL)
        a.last_login = from_micros(sqlite3_column_int64(st, 3));
      index.emplace(a.name, out.size());
      out.push_back(std::move(a));
    });
    if (!r) return r;
    r = read(one ? sql::credentials_one : sql::credentials_all, [&](sqlite3_stmt* st) {
      auto it = index.find(sqlite_column_bytes(st, 0));
      if (it == index.end()) return;
      account_credentials c;
      c.hash = sqlite_column_bytes(st, 1);
      c.salt = sqlite_column_bytes(st, 2);
      c.iterations = static_cast<std::uint32_t>(sqlite3_column_int64(st, 3));
      c.stored_key = sqlite_column_bytes(st, 4);
      c.server_key = sqlite_column_bytes(st, 5);
      out[it->second].credentials.push_back(std::move(c));
    });
    if (!r) return r;
    return read(one ? sql::grants_one : sql::grants_all, [&](sqlite3_stmt* st) {
      auto it = index.find(sqlite_column_bytes(st, 0));
      if (it != index.end()) out[it->second].rooms.push_back(sqlite_column_bytes(st, 1));
    });
  };
  auto r = body();
  (void)stmts_.run(sql::commit);
  if (!r) return std::unexpected(r.error());
  return out;
}

result<std::optional<account>> sqlite_accounts::find(std::string_view name) {
  if (name.empty()) return std::optional<account>();
  auto found = read_accounts(name);
  if (!found) return std::unexpected(found.error());
  if (found->empty()) return std::optional<account>();
  return std::optional<account>(std::move(found->front()));
}

result<std::vector<account>> sqlite_accounts::list() { return read_accounts({}); }

result<bool> sqlite_accounts::set_credentials(std::string_view name,
                                              const std::vector<account_credentials>& creds) {
  return in_transaction<bool>([&]() -> result<bool> {
    auto e = exists(name);
    if (!e || !*e) return e;
    auto s = stmts_.get(sql::delete_credentials);
    if (!s) return std::unexpected(s.error());
    sqlite_params p(*s);
    p.text(name);
    if (auto r = stmts_.step_done(*s); !r) return std::unexpected(r.error());
    if (auto r = insert_credentials(name, creds); !r) return std::unexpected(r.error());
    if (auto r = add_event(name, account_event::what::password); !r)
      return std::unexpected(r.error());
    return true;
  });
}

result<bool> sqlite_accounts::set_disabled(std::string_view name, bool disabled) {
  return in_transaction<bool>([&]() -> result<bool> {
    auto e = exists(name);
    if (!e || !*e) return e;
    auto s = stmts_.get(sql::set_disabled);
    if (!s) return std::unexpected(s.error());
    sqlite_params p(*s);
    p.text(name);
    p.integer(disabled ? 1 : 0);
    if (auto r = stmts_.step_done(*s); !r) return std::unexpected(r.error());
    if (disabled)
      if (auto r = add_event(name, account_event::what::disabled); !r)
        return std::unexpected(r.error());
    return true;
  });
}

result<bool> sqlite_accounts::grant(std::string_view name, const std::vector<std::string>& rooms) {
  return in_transaction<bool>([&]() -> result<bool> {
    auto e = exists(name);
    if (!e || !*e) return e;
    auto r = stmts_.insert_rows(sql::add_grant, rooms.size(), max_account_rows,
                                [&](sqlite_params& p, std::size_t i) {
                                  p.text(name);
                                  p.blob(rooms[i]);
                                });
    if (!r) return std::unexpected(r.error());
    return true;
  });
}

result<bool> sqlite_accounts::revoke(std::string_view name, const std::vector<std::string>& rooms) {
  return in_transaction<bool>([&]() -> result<bool> {
    auto e = exists(name);
    if (!e || !*e) return e;
    int removed = 0;
    for (const std::string& room : rooms) {
      auto s = stmts_.get(sql::delete_grant);
      if (!s) return std::unexpected(s.error());
      sqlite_params p(*s);
      p.text(name);
      p.blob(room);
      if (auto r = stmts_.step_done(*s); !r) return std::unexpected(r.error());
      removed += sqlite3_changes(db_);
    }
    // Only a grant actually taken away concerns live sessions.
    if (removed > 0)
      if (auto r = add_event(name, account_event::what::revoked); !r)
        return std::unexpected(r.error());
    return true;
  });
}

result<bool> sqlite_accounts::remove(std::string_view name) {
  return in_transaction<bool>([&]() -> result<bool> {
    auto e = exists(name);
    if (!e || !*e) return e;
    for (sql id : {sql::delete_credentials, sql::delete_grants, sql::delete_account}) {
      auto s = stmts_.get(id);
      if (!s) return std::unexpected(s.error());
      sqlite_params p(*s);
      p.text(name);
      if (auto r = stmts_.step_done(*s); !r) return std::unexpected(r.error());
    }
    if (auto r = add_event(name, account_event::what::removed); !r)
      return std::unexpected(r.error());
    return true;
  });
}

result<std::int64_t> sqlite_accounts::last_event() { return stmts_.single_int(sql::last_event); }

result<std::vector<account_event>> sqlite_accounts::events_after(std::int64_t id,
                                                                 std::size_t limit) {
  auto s = stmts_.get(sql::events_after);
  if (!s) return std::unexpected(s.error());
  sqlite_reset_on_exit reset{*s};
  sqlite_params p(*s);
  p.integer(id);
  p.integer(static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX)));
  std::vector<account_event> out;
  int rc;
  while ((rc = sqlite3_step(*s)) == SQLITE_ROW) {
    auto kind = account_event_kind(sqlite_column_bytes(*s, 2));
    if (!kind) return fail(error_kind::internal, where_ + ": unknown account event kind");
    account_event e;
    e.id = sqlite3_column_int64(*s, 0);
    e.name = sqlite_column_bytes(*s, 1);
    e.kind = *kind;
    e.at = from_micros(sqlite3_column_int64(*s, 3));
    out.push_back(std::move(e));
  }
  if (rc != SQLITE_DONE) return stmts_.failure(rc);
  return out;
}

result<void> sqlite_accounts::record_logins(const std::vector<account_login>& logins) {
  for (const account_login& l : logins) {
    auto s = stmts_.get(sql::login);
    if (!s) return std::unexpected(s.error());
    sqlite_params p(*s);
    p.text(l.name);
    p.integer(to_micros(l.at));
    if (auto r = stmts_.step_done(*s); !r) return r;
  }
  return {};
}

}  // namespace iotxmpp
