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

// The bound data outlives every step (the caller's), so SQLite need not copy it.
void bind_text(sqlite3_stmt* s, int& param, std::string_view v) {
  sqlite3_bind_text(s, param++, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
}
void bind_blob(sqlite3_stmt* s, int& param, std::string_view v) {
  sqlite3_bind_blob(s, param++, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
}
void bind_int(sqlite3_stmt* s, int& param, std::int64_t v) { sqlite3_bind_int64(s, param++, v); }

}  // namespace

result<sqlite3_stmt*> sqlite_accounts::statement(sql id, std::size_t rows) {
  auto& slot = stmts_[{id, rows}];
  if (!slot) {
    std::string text = sql_text(id, rows);
    sqlite3_stmt* s = nullptr;
    int rc = sqlite3_prepare_v3(db_, text.c_str(), static_cast<int>(text.size()),
                                SQLITE_PREPARE_PERSISTENT, &s, nullptr);
    if (rc != SQLITE_OK) {
      stmts_.erase({id, rows});
      return failure(rc);
    }
    slot.reset(s);
  }
  return slot.get();
}

result<void> sqlite_accounts::step_done(sqlite3_stmt* s) {
  sqlite_reset_on_exit reset{s};
  int rc = sqlite3_step(s);
  if (rc == SQLITE_DONE || rc == SQLITE_ROW) return {};
  return failure(rc);
}

result<void> sqlite_accounts::run(sql id) {
  auto s = statement(id);
  if (!s) return std::unexpected(s.error());
  return step_done(*s);
}

template <class T, class Body>
result<T> sqlite_accounts::in_transaction(Body&& body) {
  if (auto r = run(sql::begin); !r) return std::unexpected(r.error());
  result<T> out = body();
  if (out) {
    if (auto r = run(sql::commit); !r) out = std::unexpected(r.error());
  }
  if (!out && !sqlite3_get_autocommit(db_)) (void)run(sql::rollback);
  return out;
}

result<bool> sqlite_accounts::exists(std::string_view name) {
  auto s = statement(sql::exists);
  if (!s) return std::unexpected(s.error());
  sqlite_reset_on_exit reset{*s};
  int p = 1;
  bind_text(*s, p, name);
  int rc = sqlite3_step(*s);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return failure(rc);
}

result<void> sqlite_accounts::add_event(std::string_view name, account_event::what kind) {
  auto s = statement(sql::add_event);
  if (!s) return std::unexpected(s.error());
  int p = 1;
  bind_text(*s, p, name);
  bind_text(*s, p, to_string(kind));
  bind_int(*s, p, sqlite_micros(clock::wall_now()));
  return step_done(*s);
}

namespace {

// Runs one multi-row statement per chunk of `rows`; bind_row(stmt, param, i)
// binds row i from `param` on.
template <class Statement, class Step, class BindRow>
result<void> insert_chunks(Statement statement, Step step, std::size_t rows, BindRow bind_row) {
  std::size_t done = 0;
  for (std::size_t n : statement_chunks(rows, max_account_rows)) {
    auto s = statement(n);
    if (!s) return std::unexpected(s.error());
    int param = 1;
    for (std::size_t i = 0; i < n; ++i) bind_row(*s, param, done + i);
    if (auto r = step(*s); !r) return r;
    done += n;
  }
  return {};
}

struct credential_row {
  std::string_view name;
  const account_credentials* c;
};
struct grant_row {
  std::string_view name, pattern;
};

}  // namespace

result<void> sqlite_accounts::insert_credentials(std::string_view name,
                                                 const std::vector<account_credentials>& creds) {
  auto stmt = [&](std::size_t n) { return statement(sql::add_credentials, n); };
  auto step = [&](sqlite3_stmt* s) { return step_done(s); };
  return insert_chunks(stmt, step, creds.size(), [&](sqlite3_stmt* s, int& p, std::size_t i) {
    const account_credentials& c = creds[i];
    bind_text(s, p, name);
    bind_text(s, p, c.hash);
    bind_blob(s, p, c.salt);
    bind_int(s, p, c.iterations);
    bind_blob(s, p, c.stored_key);
    bind_blob(s, p, c.server_key);
  });
}

result<void> sqlite_accounts::add(const std::vector<account>& accounts) {
  if (auto twice = name_given_twice(accounts)) return fail(error_kind::usage, *twice);
  std::vector<credential_row> creds;
  std::vector<grant_row> grants;
  for (const account& a : accounts) {
    for (const account_credentials& c : a.credentials) creds.push_back({a.name, &c});
    for (const std::string& g : a.rooms) grants.push_back({a.name, g});
  }
  auto step = [&](sqlite3_stmt* s) { return step_done(s); };
  bool taken = false;
  auto added = in_transaction<void>([&]() -> result<void> {
    auto r = insert_chunks([&](std::size_t n) { return statement(sql::add_account, n); },
                           [&](sqlite3_stmt* s) -> result<void> {
                             sqlite_reset_on_exit reset{s};
                             int rc = sqlite3_step(s);
                             if (rc == SQLITE_DONE) return {};
                             taken = rc == SQLITE_CONSTRAINT_PRIMARYKEY;
                             return failure(rc);
                           },
                           accounts.size(),
                           [&](sqlite3_stmt* s, int& p, std::size_t i) {
                             const account& a = accounts[i];
                             bind_text(s, p, a.name);
                             bind_int(s, p, a.disabled ? 1 : 0);
                             bind_int(s, p, sqlite_micros(a.created));
                             if (a.last_login)
                               bind_int(s, p, sqlite_micros(*a.last_login));
                             else
                               sqlite3_bind_null(s, p++);
                           });
    if (!r) return r;
    r = insert_chunks([&](std::size_t n) { return statement(sql::add_credentials, n); }, step,
                      creds.size(),
                      [&](sqlite3_stmt* s, int& p, std::size_t i) {
                        const account_credentials& c = *creds[i].c;
                        bind_text(s, p, creds[i].name);
                        bind_text(s, p, c.hash);
                        bind_blob(s, p, c.salt);
                        bind_int(s, p, c.iterations);
                        bind_blob(s, p, c.stored_key);
                        bind_blob(s, p, c.server_key);
                      });
    if (!r) return r;
    return insert_chunks([&](std::size_t n) { return statement(sql::add_grant, n); }, step,
                         grants.size(),
                         [&](sqlite3_stmt* s, int& p, std::size_t i) {
                           bind_text(s, p, grants[i].name);
                           bind_blob(s, p, grants[i].pattern);
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
    return failure(rc);
  auto body = [&]() -> result<void> {
    auto read = [&](sql id, auto&& row) -> result<void> {
      auto st = statement(id);
      if (!st) return std::unexpected(st.error());
      sqlite_reset_on_exit reset{*st};
      if (one) {
        int p = 1;
        bind_text(*st, p, only);
      }
      int rc;
      while ((rc = sqlite3_step(*st)) == SQLITE_ROW) row(*st);
      if (rc != SQLITE_DONE) return failure(rc);
      return {};
    };
    auto r = read(one ? sql::accounts_one : sql::accounts_all, [&](sqlite3_stmt* st) {
      account a;
      a.name = sqlite_column_bytes(st, 0);
      a.disabled = sqlite3_column_int(st, 1) != 0;
      a.created = sqlite_from_micros(sqlite3_column_int64(st, 2));
      if (sqlite3_column_type(st, 3) != SQLITE_NULL)
        a.last_login = sqlite_from_micros(sqlite3_column_int64(st, 3));
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
  (void)run(sql::commit);
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
    auto s = statement(sql::delete_credentials);
    if (!s) return std::unexpected(s.error());
    int p = 1;
    bind_text(*s, p, name);
    if (auto r = step_done(*s); !r) return std::unexpected(r.error());
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
    auto s = statement(sql::set_disabled);
    if (!s) return std::unexpected(s.error());
    int p = 1;
    bind_text(*s, p, name);
    bind_int(*s, p, disabled ? 1 : 0);
    if (auto r = step_done(*s); !r) return std::unexpected(r.error());
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
    auto r = insert_chunks([&](std::size_t n) { return statement(sql::add_grant, n); },
                           [&](sqlite3_stmt* s) { return step_done(s); }, rooms.size(),
                           [&](sqlite3_stmt* s, int& p, std::size_t i) {
                             bind_text(s, p, name);
                             bind_blob(s, p, rooms[i]);
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
      auto s = statement(sql::delete_grant);
      if (!s) return std::unexpected(s.error());
      int p = 1;
      bind_text(*s, p, name);
      bind_blob(*s, p, room);
      if (auto r = step_done(*s); !r) return std::unexpected(r.error());
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
      auto s = statement(id);
      if (!s) return std::unexpected(s.error());
      int p = 1;
      bind_text(*s, p, name);
      if (auto r = step_done(*s); !r) return std::unexpected(r.error());
    }
    if (auto r = add_event(name, account_event::what::removed); !r)
      return std::unexpected(r.error());
    return true;
  });
}

result<std::int64_t> sqlite_accounts::last_event() {
  auto s = statement(sql::last_event);
  if (!s) return std::unexpected(s.error());
  sqlite_reset_on_exit reset{*s};
  int rc = sqlite3_step(*s);
  if (rc != SQLITE_ROW) return failure(rc);
  return static_cast<std::int64_t>(sqlite3_column_int64(*s, 0));
}

result<std::vector<account_event>> sqlite_accounts::events_after(std::int64_t id,
                                                                 std::size_t limit) {
  auto s = statement(sql::events_after);
  if (!s) return std::unexpected(s.error());
  sqlite_reset_on_exit reset{*s};
  int p = 1;
  bind_int(*s, p, id);
  bind_int(*s, p, static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX)));
  std::vector<account_event> out;
  int rc;
  while ((rc = sqlite3_step(*s)) == SQLITE_ROW) {
    auto kind = account_event_kind(sqlite_column_bytes(*s, 2));
    if (!kind) return fail(error_kind::internal, where_ + ": unknown account event kind");
    account_event e;
    e.id = sqlite3_column_int64(*s, 0);
    e.name = sqlite_column_bytes(*s, 1);
    e.kind = *kind;
    e.at = sqlite_from_micros(sqlite3_column_int64(*s, 3));
    out.push_back(std::move(e));
  }
  if (rc != SQLITE_DONE) return failure(rc);
  return out;
}

result<void> sqlite_accounts::record_logins(const std::vector<account_login>& logins) {
  for (const account_login& l : logins) {
    auto s = statement(sql::login);
    if (!s) return std::unexpected(s.error());
    int p = 1;
    bind_text(*s, p, l.name);
    bind_int(*s, p, sqlite_micros(l.at));
    if (auto r = step_done(*s); !r) return r;
  }
  return {};
}

}  // namespace iotxmpp
