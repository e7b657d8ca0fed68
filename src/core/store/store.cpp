#include "core/store/store.hpp"

#include "core/base/host_port.hpp"
#include "core/store/mysql_store.hpp"
#include "core/store/sqlite_store.hpp"

namespace iotxmpp {
namespace {

constexpr std::string_view url_forms =
    "use sqlite:PATH or mysql://USER:PASSWORD@HOST:PORT/DATABASE";

std::unexpected<error> bad_url(std::string why) {
  return fail(error_kind::usage, "bad database URL: " + why + " (" + std::string(url_forms) + ")");
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decodes one URL component; nullopt on a truncated or non-hex escape.
std::optional<std::string> percent_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    if (i + 2 >= in.size()) return std::nullopt;
    int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

bool valid_database_name(std::string_view name) {
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '$' || c == '-';
    if (!ok) return false;
  }
  return !name.empty() && name.size() <= 64;
}

result<store_url> parse_mysql(std::string_view rest) {
  store_url url;
  url.kind = store_url::engine::mysql;
  // The last '@' ends the user info, so an unencoded '@' in a password works.
  std::size_t at = rest.rfind('@');
  if (at == std::string_view::npos) return bad_url("a mysql URL needs USER@ before the host");
  std::string_view userinfo = rest.substr(0, at);
  std::string_view location = rest.substr(at + 1);

  std::size_t colon = userinfo.find(':');
  auto user = percent_decode(userinfo.substr(0, colon));
  if (!user) return bad_url("bad percent-escape in the user name");
  if (user->empty()) return bad_url("a mysql URL needs a user name");
  url.user = std::move(*user);
  if (colon != std::string_view::npos) {
    auto password = percent_decode(userinfo.substr(colon + 1));
    if (!password) return bad_url("bad percent-escape in the password");
    url.password = std::move(*password);
  }

  std::size_t slash = location.find('/');
  if (slash == std::string_view::npos) return bad_url("a mysql URL needs /DATABASE after the host");
  std::string_view hostport = location.substr(0, slash);
  std::string_view database = location.substr(slash + 1);
  auto address = parse_host_port(hostport, {.default_port = url.port});
  if (!address) return bad_url("host: " + address.error().message);
  url.host = std::move(address->host);
  url.port = address->port;
  if (database.empty()) return bad_url("a mysql URL needs a database name after the host");
  if (!valid_database_name(database))
    return bad_url("database name '" + std::string(database) +
                   "' may hold only letters, digits, '_', '$' and '-' (at most 64)");
  url.database = std::string(database);
  return url;
}

}  // namespace

result<store_url> store_url::parse(std::string_view text) {
  if (text.starts_with("sqlite:")) {
    std::string_view path = text.substr(7);
    if (path.starts_with("//")) path.remove_prefix(2);  // sqlite:///abs/path
    if (path.empty()) return bad_url("a sqlite URL needs a file path");
    store_url url;
    url.kind = engine::sqlite;
    url.path = std::string(path);
    return url;
  }
  if (text.starts_with("mysql://")) return parse_mysql(text.substr(8));
  std::size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0) return bad_url("no scheme");
  std::string_view scheme = text.substr(0, colon);
  if (scheme == "mysql" || scheme == "mariadb") return bad_url("mysql URLs start with mysql://");
  return bad_url("unknown scheme '" + std::string(scheme) + "'");
}

std::string store_url::redacted() const {
  if (kind == engine::sqlite) return "sqlite:" + path;
  std::string out = "mysql://" + user;
  if (!password.empty()) out += ":***";
  out += '@';
  out += format_host_port(host, port) + '/' + database;
  return out;
}

bool write_batch::empty() const { return size() == 0; }

std::size_t write_batch::size() const {
  return reports.size() + presences.size() + recommendations.size() + touches.size() +
         offlines.size() + logins.size();
}

result<migration_report> store::migrate_to(int) {
  return fail(error_kind::internal, "this store cannot migrate to a chosen schema version");
}

namespace {
std::unexpected<error> no_accounts() {
  return fail(error_kind::internal, "this store keeps no device accounts");
}
}  // namespace

// Fakes in tests keep these; both real engines override them.
result<void> store::add_accounts(const std::vector<account>&) { return no_accounts(); }
result<std::optional<account>> store::find_account(std::string_view) { return no_accounts(); }
result<std::vector<account>> store::list_accounts() { return no_accounts(); }
result<bool> store::set_account_credentials(std::string_view,
                                            const std::vector<account_credentials>&) {
  return no_accounts();
}
result<bool> store::set_account_disabled(std::string_view, bool) { return no_accounts(); }
result<bool> store::grant_rooms(std::string_view, const std::vector<std::string>&) {
  return no_accounts();
}
result<bool> store::revoke_rooms(std::string_view, const std::vector<std::string>&) {
  return no_accounts();
}
result<bool> store::remove_account(std::string_view) { return no_accounts(); }
result<std::int64_t> store::last_account_event() { return no_accounts(); }
result<std::vector<account_event>> store::account_events_after(std::int64_t, std::size_t) {
  return no_accounts();
}

namespace {
std::unexpected<error> no_nodes() {
  return fail(error_kind::internal, "this store keeps no state of several nodes");
}
}  // namespace

result<void> store::heartbeat(std::string_view, sys_micros, sys_micros) { return no_nodes(); }
result<std::vector<node_row>> store::nodes() { return no_nodes(); }
result<std::vector<feed_head>> store::feed_heads() { return no_nodes(); }
result<std::vector<feed_record>> store::feed_after(std::string_view, std::int64_t, std::size_t,
                                                   bool) {
  return no_nodes();
}
result<std::size_t> store::prune_feed(sys_micros, std::size_t) { return no_nodes(); }
result<std::vector<device_row>> store::online_elsewhere(std::string_view, sys_micros) {
  return no_nodes();
}
result<std::size_t> store::offline_dead_nodes(sys_micros) { return no_nodes(); }

result<std::unique_ptr<store>> open_store(const store_url& url) {
  if (url.kind == store_url::engine::sqlite) return open_sqlite_store(url);
  return open_mysql_store(url);
}

result<std::unique_ptr<store>> open_store(std::string_view url_text) {
  auto url = store_url::parse(url_text);
  if (!url) return std::unexpected(url.error());
  return open_store(*url);
}

result<bool> create_database_if_missing(const store_url& url) {
  if (url.kind == store_url::engine::sqlite) return false;
  return mysql_create_database(url);
}

}  // namespace iotxmpp
