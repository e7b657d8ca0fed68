#include "core/store/mysql_accounts.hpp"

#include <cppconn/statement.h>

#include <algorithm>
#include <unordered_map>

#include "core/base/clock.hpp"
#include "core/store/store_rows.hpp"

namespace iotxmpp {

enum class mysql_accounts::sql_id : int {
  add_account,
  add_credentials,
  add_grant,
  exists_locked,
  exists_in,
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

using sql_id = mysql_accounts::sql_id;

// Rows per multi-row INSERT (a credentials row has 6 parameters).
constexpr std::size_t max_account_rows = 1000;
constexpr int er_dup_entry = 1062;

std::string sql_text(sql_id id, std::size_t rows) {
  switch (id) {
    case sql_id::add_account:
      return multi_row_sql("INSERT INTO accounts (name, disabled, created, last_login)",
                           "(?, ?, ?, ?)", rows);
    case sql_id::add_credentials:
      return multi_row_sql(
          "INSERT INTO account_credentials (name, hash, salt, iterations, stored_key, server_key)",
          "(?, ?, ?, ?, ?, ?)", rows);
    case sql_id::add_grant:
      // Not INSERT IGNORE: that would also turn bad data into warnings.
      return multi_row_sql("INSERT INTO account_grants (name, pattern)", "(?, ?)", rows,
                           "ON DUPLICATE KEY UPDATE pattern = pattern");
    case sql_id::exists_locked:
      return "SELECT 1 FROM accounts WHERE name = ? FOR UPDATE";
    case sql_id::exists_in: {
      std::string text = "SELECT name FROM accounts WHERE name IN (";
      for (std::size_t i = 0; i < rows; ++i) text += i ? ",?" : "?";
      return text + ")";
    }
    case sql_id::accounts_all:
      return "SELECT name, disabled, created, last_login FROM accounts ORDER BY name";
    case sql_id::accounts_one:
      return "SELECT name, disabled, created, last_login FROM accounts WHERE name = ?";
    case sql_id::credentials_all:
      return "SELECT name, hash, salt, iterations, stored_key, server_key"
             " FROM account_credentials ORDER BY name, hash";
    case sql_id::credentials_one:
      return "SELECT name, hash, salt, iterations, stored_key, server_key"
             " FROM account_credentials WHERE name = ? ORDER BY hash";
    case sql_id::grants_all:
      return "SELECT name, pattern FROM account_grants ORDER BY name, pattern";
    case sql_id::grants_one:
      return "SELECT name, pattern FROM account_grants WHERE name = ? ORDER BY pattern";
    case sql_id::delete_credentials:
      return "DELETE FROM account_credentials WHERE name = ?";
    case sql_id::delete_grant:
      return "DELETE FROM account_grants WHERE name = ? AND pattern = ?";
    case sql_id::delete_grants:
      return "DELETE FROM account_grants WHERE name = ?";
    case sql_id::delete_account:
      return "DELETE FROM accounts WHERE name = ?";
    case sql_id::set_disabled:
      return "UPDATE accounts SET disabled = ? WHERE name = ?";
    case sql_id::add_event:
      return "INSERT INTO account_events (name, kind, at) VALUES (?, ?, ?)";
    case sql_id::last_event:
      return "SELECT COALESCE(MAX(id), 0) FROM account_events";
    case sql_id::events_after:
      return "SELECT id, name, kind, at FROM account_events WHERE id > ?"
             " AND kind IN ('disabled', 'removed', 'revoked', 'password') ORDER BY id LIMIT ?";
    case sql_id::login:
      return "UPDATE accounts SET last_login = ?"
             " WHERE name = ? AND (last_login IS NULL OR last_login < ?)";
  }
  return {};
}

void execute(sql::Connection& conn, const char* text) {
  std::unique_ptr<sql::Statement>(conn.createStatement())->execute(text);
}

}  // namespace

mysql_accounts::mysql_accounts(sql::Connection& conn, store_url url)
    : conn_(conn), url_(std::move(url)), stmts_(conn, sql_text) {}
mysql_accounts::~mysql_accounts() = default;

void mysql_accounts::forget_statements() { stmts_.clear(); }

template <class T, class Body>
result<T> mysql_accounts::guarded(std::string_view doing, Body&& body) {
  return mysql_guarded<T>(url_, doing, std::forward<Body>(body));
}

template <class T, class Body>
result<T> mysql_accounts::in_transaction(std::string_view doing, Body&& body) {
  return mysql_retry_deadlocks([&] {
    bool open = false;
    return guarded<T>(doing, [&]() -> result<T> {
      try {
        execute(conn_, "START TRANSACTION");
        open = true;
        result<T> r = body();
        execute(conn_, r ? "COMMIT" : "ROLLBACK");
        open = false;
        return r;
      } catch (const sql::SQLException&) {
        if (open) {
          try {
            execute(conn_, "ROLLBACK");
          } catch (const sql::SQLException&) {
            // The connection is gone, and the server rolled back for us.
          }
        }
        throw;
      }
    });
  });
}

bool mysql_accounts::exists_locked(std::string_view name) {
  sql::PreparedStatement* s = stmts_.get(sql_id::exists_locked);
  mysql_params(s).text(name);
  std::unique_ptr<sql::ResultSet> rs(s->executeQuery());
  return rs->next();
}

void mysql_accounts::add_event(std::string_view name, account_event::what kind) {
  sql::PreparedStatement* s = stmts_.get(sql_id::add_event);
  mysql_params(s).text(name).text(to_string(kind)).integer(to_micros(clock::wall_now()));
  s->executeUpdate();
}

namespace {

struct credential_row {
  std::string_view name;
  const account_credentials* c;
};
struct grant_row {
  std::string_view name, pattern;
};

void bind_credentials(mysql_params& p, std::string_view name, const account_credentials& c) {
  p.text(name)
      .text(c.hash)
      .text(c.salt)
      .integer(c.iterations)
      .text(c.stored_key)
      .text(c.server_key);
}

}  // namespace

void mysql_accounts::insert_credentials(std::string_view name,
                                        const std::vector<account_credentials>& creds) {
  stmts_.insert_rows(sql_id::add_credentials, creds.size(), max_account_rows,
                     [&](mysql_params& p, std::size_t i) { bind_credentials(p, name, creds[i]); });
}

result<void> mysql_accounts::add(const std::vector<account>& accounts) {
  if (auto twice = name_given_twice(accounts)) return fail(error_kind::usage, *twice);
  std::vector<credential_row> creds;
  std::vector<grant_row> grants;
  for (const account& a : accounts) {
    for (const account_credentials& c : a.credentials) creds.push_back({a.name, &c});
    for (const std::string& g : a.rooms) grants.push_back({a.name, g});
  }
  bool taken = false;
  auto added = in_transaction<void>("add accounts to", [&]() -> result<void> {
    try {
      stmts_.insert_rows(sql_id::add_account, accounts.size(), max_account_rows,
                         [&](mysql_params& p, std::size_t i) {
                           const account& a = accounts[i];
                           p.text(a.name).boolean(a.disabled).integer(to_micros(a.created));
                           p.micros_or_null(a.last_login);
                         });
    } catch (const sql::SQLException& e) {
      taken = e.getErrorCode() == er_dup_entry;
      throw;
    }
    stmts_.insert_rows(
        sql_id::add_credentials, creds.size(), max_account_rows,
        [&](mysql_params& p, std::size_t i) { bind_credentials(p, creds[i].name, *creds[i].c); });
    stmts_.insert_rows(
        sql_id::add_grant, grants.size(), max_account_rows,
        [&](mysql_params& p, std::size_t i) { p.text(grants[i].name).text(grants[i].pattern); });
    return {};
  });
  if (added || !taken) return added;
  auto name = guarded<std::string>("read from", [&] { return first_taken(accounts); });
  if (!name) return std::unexpected(name.error());
  return fail(error_kind::usage, "device " + *name + " exists");
}

std::string mysql_accounts::first_taken(const std::vector<account>& accounts) {
  std::vector<std::string> found;
  std::size_t done = 0;
  for (std::size_t n : statement_chunks(accounts.size(), max_account_rows)) {
    sql::PreparedStatement* s = stmts_.get(sql_id::exists_in, n);
    mysql_params p(s);
    for (std::size_t i = 0; i < n; ++i) p.text(accounts[done + i].name);
    std::unique_ptr<sql::ResultSet> rs(s->executeQuery());
    while (rs->next()) found.push_back(mysql_text(*rs, 1));
    done += n;
  }
  for (const account& a : accounts)  // the first in the caller's order
    if (std::find(found.begin(), found.end(), a.name) != found.end()) return a.name;
  return "(another process's)";  // added and removed again meanwhile
}

std::vector<account> mysql_accounts::read_accounts(std::string_view only) {
  bool one = !only.empty();
  std::vector<account> out;
  std::unordered_map<std::string, std::size_t> index;
  auto query = [&](sql_id all, sql_id single) {
    sql::PreparedStatement* s = stmts_.get(one ? single : all);
    if (one) mysql_params(s).text(only);
    return std::unique_ptr<sql::ResultSet>(s->executeQuery());
  };
  auto rs = query(sql_id::accounts_all, sql_id::accounts_one);
  while (rs->next()) {
    account a;
    a.name = mysql_text(*rs, 1);
    a.disabled = rs->getBoolean(2);
    a.created = from_micros(rs->getInt64(3));
    if (!rs->isNull(4)) a.last_login = from_micros(rs->getInt64(4));
    index.emplace(a.name, out.size());
    out.push_back(std::move(a));
  }
  rs = query(sql_id::credentials_all, sql_id::credentials_one);
  while (rs->next()) {
    auto it = index.find(mysql_text(*rs, 1));
    if (it == index.end()) continue;  // added after the accounts were read
    account_credentials c;
    c.hash = mysql_text(*rs, 2);
    c.salt = mysql_text(*rs, 3);
    c.iterations = static_cast<std::uint32_t>(rs->getUInt64(4));
    c.stored_key = mysql_text(*rs, 5);
    c.server_key = mysql_text(*rs, 6);
    out[it->second].credentials.push_back(std::move(c));
  }
  rs = query(sql_id::grants_all, sql_id::grants_one);
  while (rs->next()) {
    auto it = index.find(mysql_text(*rs, 1));
    if (it != index.end()) out[it->second].rooms.push_back(mysql_text(*rs, 2));
  }
  return out;
}

result<std::optional<account>> mysql_accounts::find(std::string_view name) {
  if (name.empty()) return std::optional<account>();
  return guarded<std::optional<account>>("read from", [&] {
    std::vector<account> found = read_accounts(name);
    if (found.empty()) return std::optional<account>();
    return std::optional<account>(std::move(found.front()));
  });
}

result<std::vector<account>> mysql_accounts::list() {
  return guarded<std::vector<account>>("read from", [&] { return read_accounts({}); });
}

result<bool> mysql_accounts::set_credentials(std::string_view name,
                                             const std::vector<account_credentials>& creds) {
  return in_transaction<bool>("change a password in", [&]() -> result<bool> {
    if (!exists_locked(name)) return false;
    sql::PreparedStatement* s = stmts_.get(sql_id::delete_credentials);
    mysql_params(s).text(name);
    s->executeUpdate();
    insert_credentials(name, creds);
    add_event(name, account_event::what::password);
    return true;
  });
}

result<bool> mysql_accounts::set_disabled(std::string_view name, bool disabled) {
  return in_transaction<bool>("change an account in", [&]() -> result<bool> {
    if (!exists_locked(name)) return false;
    sql::PreparedStatement* s = stmts_.get(sql_id::set_disabled);
    mysql_params(s).boolean(disabled).text(name);
    s->executeUpdate();
    if (disabled) add_event(name, account_event::what::disabled);
    return true;
  });
}

result<bool> mysql_accounts::grant(std::string_view name, const std::vector<std::string>& rooms) {
  return in_transaction<bool>("grant rooms in", [&]() -> result<bool> {
    if (!exists_locked(name)) return false;
    stmts_.insert_rows(sql_id::add_grant, rooms.size(), max_account_rows,
                       [&](mysql_params& p, std::size_t i) { p.text(name).text(rooms[i]); });
    return true;
  });
}

result<bool> mysql_accounts::revoke(std::string_view name, const std::vector<std::string>& rooms) {
  return in_transaction<bool>("revoke rooms in", [&]() -> result<bool> {
    if (!exists_locked(name)) return false;
    int removed = 0;
    for (const std::string& room : rooms) {
      sql::PreparedStatement* s = stmts_.get(sql_id::delete_grant);
      mysql_params(s).text(name).text(room);
      removed += s->executeUpdate();
    }
    // Only a grant actually taken away concerns live sessions.
    if (removed > 0) add_event(name, account_event::what::revoked);
    return true;
  });
}

result<bool> mysql_accounts::remove(std::string_view name) {
  return in_transaction<bool>("remove an account from", [&]() -> result<bool> {
    if (!exists_locked(name)) return false;
    for (sql_id id : {sql_id::delete_credentials, sql_id::delete_grants, sql_id::delete_account}) {
      sql::PreparedStatement* s = stmts_.get(id);
      mysql_params(s).text(name);
      s->executeUpdate();
    }
    add_event(name, account_event::what::removed);
    return true;
  });
}

result<std::int64_t> mysql_accounts::last_event() {
  return guarded<std::int64_t>("read from", [&] {
    std::unique_ptr<sql::ResultSet> rs(stmts_.get(sql_id::last_event)->executeQuery());
    rs->next();
    return static_cast<std::int64_t>(rs->getInt64(1));
  });
}

result<std::vector<account_event>> mysql_accounts::events_after(std::int64_t id,
                                                                std::size_t limit) {
  return guarded<std::vector<account_event>>(
      "read from", [&]() -> result<std::vector<account_event>> {
        sql::PreparedStatement* s = stmts_.get(sql_id::events_after);
        constexpr std::size_t most = std::size_t{1} << 62;
        mysql_params(s).integer(id).integer(static_cast<std::int64_t>(std::min(limit, most)));
        std::unique_ptr<sql::ResultSet> rs(s->executeQuery());
        std::vector<account_event> out;
        while (rs->next()) {
          auto kind = account_event_kind(mysql_text(*rs, 3));
          if (!kind) return fail(error_kind::internal, url_.redacted() + ": unknown event kind");
          account_event e;
          e.id = rs->getInt64(1);
          e.name = mysql_text(*rs, 2);
          e.kind = *kind;
          e.at = from_micros(rs->getInt64(4));
          out.push_back(std::move(e));
        }
        return out;
      });
}

void mysql_accounts::record_logins(const std::vector<account_login>& logins) {
  for (const account_login& l : logins) {
    sql::PreparedStatement* s = stmts_.get(sql_id::login);
    mysql_params(s).integer(to_micros(l.at)).text(l.name).integer(to_micros(l.at));
    s->executeUpdate();
  }
}

}  // namespace iotxmpp
