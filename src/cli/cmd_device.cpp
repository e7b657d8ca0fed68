// iotxmpp device: provisions device accounts directly in the database (as
// prosodyctl adduser or mosquitto_passwd do): add, list, show, passwd,
// grant, revoke, disable, enable, remove.

#include <CLI/CLI.hpp>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cli/command.hpp"
#include "cli/db_option.hpp"
#include "cli/exit_codes.hpp"
#include "cli/json_output.hpp"
#include "core/base/clock.hpp"
#include "core/model/account.hpp"
#include "core/model/datetime.hpp"
#include "core/sasl/base64.hpp"
#include "core/sasl/scram_credentials.hpp"
#include "core/store/store.hpp"

namespace iotxmpp::cli {
namespace {

// 1 -> "0001", 12345 -> "12345".
std::string padded_number(std::size_t n) {
  std::string digits = std::to_string(n);
  return digits.size() >= 4 ? digits : std::string(4 - digits.size(), '0') + digits;
}

// Every hash a device can log in with; each gets its own salt.
constexpr scram_hash device_hashes[] = {scram_hash::sha1, scram_hash::sha256};
// From this many devices on, `add --count` reports progress on stderr.
constexpr std::size_t progress_from = 500;

struct device_options {
  std::string db = default_db_url;
  bool json = false;
  std::string name;
  std::vector<std::string> rooms;
  std::string password_file;
  std::uint32_t iterations = default_scram_iterations;
  std::size_t count = 0;
  std::string prefix = "dev";
  std::string room_pattern;
};

std::unexpected<error> usage(std::string message) {
  return fail(error_kind::usage, std::move(message));
}

result<void> check_name(const std::string& name) {
  if (valid_account_name(name)) return {};
  return usage("bad device name '" + name +
               "': use 1-64 of a-z 0-9 . _ - starting with a letter or digit");
}

result<void> check_grant(const std::string& grant) {
  if (valid_room_grant(grant)) return {};
  if (grant.empty()) return usage("bad room grant '': a room name cannot be empty");
  if (grant.size() > 1023) return usage("bad room grant: longer than 1023 bytes");
  return usage("bad room grant '" + grant + "': '*' may only end a prefix (lab-*), and only once");
}

std::unexpected<error> no_such_device(const std::string& name) {
  return usage("device " + name + " does not exist");
}

// The first line of `path` ("-": standard input) without its line end.
result<std::string> read_password(const std::string& path) {
  std::string text;
  if (path == "-") {
    std::getline(std::cin, text);
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in) return usage("cannot read the password file " + path);
    std::getline(in, text);
  }
  if (!text.empty() && text.back() == '\r') text.pop_back();
  if (text.empty()) return usage("the password in " + path + " is empty");
  return text;
}

// 24 random bytes as base64url without padding: 32 characters, 192 bits.
std::string new_secret() {
  std::string s = base64_encode(random_bytes(24));
  for (char& c : s) c = c == '+' ? '-' : c == '/' ? '_' : c;
  s.erase(std::remove(s.begin(), s.end(), '='), s.end());
  return s;
}

std::vector<account_credentials> credentials_of(std::string_view password,
                                                std::uint32_t iterations) {
  std::vector<account_credentials> out;
  for (scram_hash h : device_hashes) {
    scram_keys k = new_scram_keys(h, password, iterations);
    out.push_back({std::string(hash_name(h)), std::move(k.salt), k.iterations,
                   std::move(k.stored_key), std::move(k.server_key)});
  }
  return out;
}

std::string utc_text(sys_micros t) { return format_datetime({t, 0}); }

// The store at --db, its schema migrated to this version's.
result<std::unique_ptr<store>> open_db(const device_options& o) {
  auto db = open_store(o.db);
  if (!db) return db;
  if (auto m = (*db)->migrate(); !m) return std::unexpected(m.error());
  return db;
}

void print_secret(const std::string& name, const std::string& secret) {
  std::printf("password for %s (shown once, not stored): %s\n", name.c_str(), secret.c_str());
}

std::string joined(const std::vector<std::string>& items, const char* separator) {
  std::string out;
  for (const std::string& i : items) out += (out.empty() ? "" : separator) + i;
  return out;
}

result<void> add_one(store& db, const device_options& o) {
  if (o.name.empty()) return usage("device add needs a NAME (or --count N)");
  if (auto r = check_name(o.name); !r) return r;
  for (const std::string& g : o.rooms)
    if (auto r = check_grant(g); !r) return r;
  std::string secret;
  if (!o.password_file.empty()) {
    auto p = read_password(o.password_file);
    if (!p) return std::unexpected(p.error());
    secret = std::move(*p);
  }
  bool generated = secret.empty();
  if (generated) secret = new_secret();
  account a;
  a.name = o.name;
  a.created = clock::wall_now();
  a.rooms = o.rooms;
  a.credentials = credentials_of(secret, o.iterations);
  if (auto r = db.add_accounts({a}); !r) return r;
  std::fprintf(stderr, "added device %s (rooms: %s) to %s\n", o.name.c_str(),
               o.rooms.empty() ? "none" : joined(o.rooms, ", ").c_str(), db.describe().c_str());
  if (generated) print_secret(o.name, secret);
  return {};
}

// Derives every account's keys on two threads (PBKDF2 dominates: ~ms per
// hash and device), reporting progress on stderr for big runs.
void derive_all(std::vector<account>& accounts, std::string_view password,
                std::uint32_t iterations) {
  std::atomic<std::size_t> next{0}, done{0};
  auto work = [&] {
    for (std::size_t i; (i = next++) < accounts.size(); ++done)
      accounts[i].credentials = credentials_of(password, iterations);
  };
  std::size_t n = accounts.size();
  std::vector<std::jthread> pool;
  for (unsigned t = 0; t < std::min(2u, std::max(1u, std::thread::hardware_concurrency())); ++t)
    pool.emplace_back(work);
  if (n >= progress_from) {
    std::size_t shown = 0;
    while (shown < n) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      std::size_t now = done;
      if (now * 10 / n > shown * 10 / n || now == n)
        std::fprintf(stderr, "keys derived for %zu of %zu devices\n", now, n);
      shown = now;
    }
  }
}

result<void> add_many(store& db, const device_options& o) {
  if (!o.name.empty()) return usage("device add takes a NAME or --count, not both");
  if (o.password_file.empty())
    return usage("device add --count needs --password-file (one password for every device)");
  auto password = read_password(o.password_file);
  if (!password) return std::unexpected(password.error());
  std::vector<account> accounts(o.count);
  sys_micros now = clock::wall_now();
  for (std::size_t n = 1; n <= o.count; ++n) {
    account& a = accounts[n - 1];
    // {n} and the name's number are padded to 4 digits, as `simulate`
    // numbers its devices and rooms (dev0001 in room-0001).
    const std::string number = padded_number(n);
    a.name = o.prefix + number;
    if (auto r = check_name(a.name); !r) return r;
    a.created = now;
    a.rooms = o.rooms;
    if (!o.room_pattern.empty()) {
      std::string room = o.room_pattern;
      for (std::size_t at; (at = room.find("{n}")) != std::string::npos;)
        room.replace(at, 3, number);
      if (auto r = check_grant(room); !r) return r;
      a.rooms.push_back(std::move(room));
    }
    std::sort(a.rooms.begin(), a.rooms.end());
    a.rooms.erase(std::unique(a.rooms.begin(), a.rooms.end()), a.rooms.end());
  }
  for (const std::string& g : o.rooms)
    if (auto r = check_grant(g); !r) return r;
  steady_time start = clock::steady_now();
  derive_all(accounts, *password, o.iterations);
  if (auto r = db.add_accounts(accounts); !r) return r;
  std::fprintf(stderr, "added %zu devices (%s .. %s) to %s in %.1f s\n", o.count,
               accounts.front().name.c_str(), accounts.back().name.c_str(), db.describe().c_str(),
               clock::milliseconds_since(start) / 1000);
  return {};
}

json_value account_json(const account& a) {
  json_value hashes = json_value::array();
  for (const account_credentials& c : a.credentials)
    hashes.push_back({{"hash", "SCRAM-" + c.hash}, {"iterations", c.iterations}});
  json_value j;
  j["name"] = a.name;
  j["disabled"] = a.disabled;
  j["created"] = utc_text(a.created);
  j["last_login"] = a.last_login ? json_value(utc_text(*a.last_login)) : json_value(nullptr);
  j["rooms"] = a.rooms;
  j["hashes"] = hashes;
  return j;
}

result<void> list_devices(store& db, const device_options& o) {
  auto all = db.list_accounts();
  if (!all) return std::unexpected(all.error());
  if (o.json) {
    json_value arr = json_value::array();
    for (const account& a : *all) arr.push_back(account_json(a));
    print_json(arr);
    return {};
  }
  for (const account& a : *all)
    std::printf("%s %s rooms=%s last_login=%s\n", a.name.c_str(),
                a.disabled ? "disabled" : "enabled",
                a.rooms.empty() ? "-" : joined(a.rooms, ",").c_str(),
                a.last_login ? utc_text(*a.last_login).c_str() : "never");
  std::fprintf(stderr, "%zu %s in %s\n", all->size(), all->size() == 1 ? "device" : "devices",
               db.describe().c_str());
  return {};
}

result<void> show_device(store& db, const device_options& o) {
  auto found = db.find_account(o.name);
  if (!found) return std::unexpected(found.error());
  if (!*found) return no_such_device(o.name);
  const account& a = **found;
  if (o.json) {
    print_json(account_json(a));
    return {};
  }
  std::vector<std::string> hashes;
  for (const account_credentials& c : a.credentials)
    hashes.push_back("SCRAM-" + c.hash + " (" + std::to_string(c.iterations) + " iterations)");
  std::printf("name: %s\nstate: %s\ncreated: %s\nlast login: %s\nrooms: %s\nhashes: %s\n",
              a.name.c_str(), a.disabled ? "disabled" : "enabled", utc_text(a.created).c_str(),
              a.last_login ? utc_text(*a.last_login).c_str() : "never",
              a.rooms.empty() ? "none" : joined(a.rooms, " ").c_str(),
              hashes.empty() ? "none" : joined(hashes, ", ").c_str());
  return {};
}

result<void> passwd(store& db, const device_options& o) {
  std::string secret;
  if (!o.password_file.empty()) {
    auto p = read_password(o.password_file);
    if (!p) return std::unexpected(p.error());
    secret = std::move(*p);
  }
  bool generated = secret.empty();
  if (generated) secret = new_secret();
  auto changed = db.set_account_credentials(o.name, credentials_of(secret, o.iterations));
  if (!changed) return std::unexpected(changed.error());
  if (!*changed) return no_such_device(o.name);
  std::fprintf(stderr, "changed the password of device %s\n", o.name.c_str());
  if (generated) print_secret(o.name, secret);
  return {};
}

result<void> grant_or_revoke(store& db, const device_options& o, bool grant) {
  for (const std::string& g : o.rooms)
    if (auto r = check_grant(g); !r) return r;
  auto done = grant ? db.grant_rooms(o.name, o.rooms) : db.revoke_rooms(o.name, o.rooms);
  if (!done) return std::unexpected(done.error());
  if (!*done) return no_such_device(o.name);
  std::printf("%s %s %s %s\n", grant ? "granted" : "revoked", joined(o.rooms, " ").c_str(),
              grant ? "to" : "from", o.name.c_str());
  return {};
}

result<void> set_disabled(store& db, const device_options& o, bool disabled) {
  auto done = db.set_account_disabled(o.name, disabled);
  if (!done) return std::unexpected(done.error());
  if (!*done) return no_such_device(o.name);
  std::printf("%s device %s\n", disabled ? "disabled" : "enabled", o.name.c_str());
  return {};
}

result<void> remove_device(store& db, const device_options& o) {
  auto done = db.remove_account(o.name);
  if (!done) return std::unexpected(done.error());
  if (!*done) return no_such_device(o.name);
  std::printf("removed device %s\n", o.name.c_str());
  return {};
}

using action_fn = result<void> (*)(store&, const device_options&);

int run_action(const device_options& o, action_fn fn) {
  // Names are checked before the database is touched, so a typo cannot
  // create or migrate anything.
  if (!o.name.empty())
    if (auto r = check_name(o.name); !r) return report(r.error());
  auto db = open_db(o);
  if (!db) return report(db.error());
  auto r = fn(**db, o);
  return r ? exit_ok : report(r.error());
}

// Options of this action only: no config file key and no IOTXMPP_<NAME>
// variable (another subcommand's --room or --count must not leak in), but
// IOTXMPP_DEVICE_<NAME>.
CLI::Option* own(CLI::Option* opt, const char* env) {
  return opt->configurable(false)->envname(env);
}

void add_iterations_option(CLI::App& app, device_options& o) {
  own(app.add_option("--iterations", o.iterations,
                     "PBKDF2 iterations of the stored SCRAM keys (at least 4096)"),
      "IOTXMPP_DEVICE_ITERATIONS")
      ->type_name("N")
      ->capture_default_str()
      ->check(CLI::Range(min_scram_iterations, std::uint32_t{10'000'000}));
}

void add_password_file_option(CLI::App& app, device_options& o, const char* help) {
  own(app.add_option("--password-file", o.password_file, help), "IOTXMPP_DEVICE_PASSWORD_FILE")
      ->type_name("FILE");
}

}  // namespace

runner setup_device(CLI::App& sub) {
  sub.description(
      "Provision device accounts in the database given by --db (no server needed;\n"
      "the schema is migrated first when older). A device logs in as NAME with its\n"
      "password (SCRAM-SHA-1, SCRAM-SHA-256, or PLAIN over TLS) and may report only\n"
      "for the rooms granted to it: exact names, or prefixes ending in '*'.\n"
      "The store keeps salted SCRAM keys, never a password: a generated password\n"
      "is printed once, on stdout. Names: 1-64 of a-z 0-9 . _ -.\n"
      "Exit codes: 0 done, 2 usage (bad name or grant, unknown device: \"device NAME\n"
      "does not exist\", NAME taken: \"device NAME exists\"), 3 cannot connect,\n"
      "6 database error.");
  sub.require_subcommand(1);
  struct entry {
    CLI::App* app;
    std::shared_ptr<device_options> options;
    action_fn fn;
  };
  auto entries = std::make_shared<std::vector<entry>>();
  auto action = [&](const char* name, const char* help, action_fn fn) {
    CLI::App* app = sub.add_subcommand(name, help);
    auto o = std::make_shared<device_options>();
    add_db_option(*app, o->db);
    entries->push_back({app, o, fn});
    return std::pair{app, o.get()};
  };
  auto name_arg = [](CLI::App* app, device_options* o) {
    app->add_option("name", o->name, "The device's account name")->required();
  };

  auto [add, a] = action("add", "Add a device (a password is generated unless given)",
                         [](store& db, const device_options& o) {
                           return o.count > 0 ? add_many(db, o) : add_one(db, o);
                         });
  add->add_option("name", a->name, "The device's account name (not with --count)");
  own(add->add_option("--room", a->rooms, "Grant this room or prefix* (repeatable)"),
      "IOTXMPP_DEVICE_ROOM")
      ->type_name("ROOM");
  add_password_file_option(*add, *a,
                           "Read the password from the first line of FILE ('-': stdin)\n"
                           "instead of generating one");
  add_iterations_option(*add, *a);
  own(add->add_option("--count", a->count,
                      "Add devices PREFIX1..PREFIXN in one transaction (needs\n"
                      "--password-file; each gets its own salt)"),
      "IOTXMPP_DEVICE_COUNT")
      ->type_name("N")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1'000'000}));
  own(add->add_option("--prefix", a->prefix, "Name prefix of the --count devices"),
      "IOTXMPP_DEVICE_PREFIX")
      ->capture_default_str();
  own(add->add_option("--room-pattern", a->room_pattern,
                      "With --count: grant each device this room, {n} replaced\n"
                      "by its number, padded to 4 digits like the name (dev0001,\n"
                      "room-0001: as simulate numbers its devices)"),
      "IOTXMPP_DEVICE_ROOM_PATTERN")
      ->type_name("PATTERN");
  add->footer(
      "  iotxmpp device add dev1 --room kitchen --room 'lab-*'\n"
      "  iotxmpp device add --count 1000 --room-pattern 'room-{n}' --password-file pw.txt");

  auto [lst, l] = action("list", "List every device: state, rooms, last login", list_devices);
  lst->add_flag("--json", l->json, "Print a JSON array of objects");

  auto [shw, s] = action("show", "Show one device (never its keys or salts)", show_device);
  name_arg(shw, s);
  shw->add_flag("--json", s->json, "Print one JSON object");

  auto [pwd, p] = action("passwd", "Give a device a new password (generated unless given)", passwd);
  name_arg(pwd, p);
  add_password_file_option(*pwd, *p,
                           "Read the password from the first line of FILE ('-': stdin)\n"
                           "instead of generating one");
  add_iterations_option(*pwd, *p);

  auto [grt, g] =
      action("grant", "Let a device report for more rooms",
             [](store& db, const device_options& o) { return grant_or_revoke(db, o, true); });
  name_arg(grt, g);
  grt->add_option("rooms", g->rooms, "Rooms or prefix* patterns")->required();

  auto [rvk, r] =
      action("revoke", "Take rooms from a device (its sessions end)",
             [](store& db, const device_options& o) { return grant_or_revoke(db, o, false); });
  name_arg(rvk, r);
  rvk->add_option("rooms", r->rooms, "Granted rooms or patterns, as listed")->required();

  auto [dis, d] =
      action("disable", "Refuse a device's logins (its sessions end)",
             [](store& db, const device_options& o) { return set_disabled(db, o, true); });
  name_arg(dis, d);
  auto [enb, e] =
      action("enable", "Accept a disabled device's logins again",
             [](store& db, const device_options& o) { return set_disabled(db, o, false); });
  name_arg(enb, e);
  auto [rmv, m] = action("remove", "Remove a device's account (its sessions end)", remove_device);
  name_arg(rmv, m);

  return [entries]() -> int {
    for (const auto& en : *entries)
      if (en.app->parsed()) return run_action(*en.options, en.fn);
    return exit_usage;
  };
}

}  // namespace iotxmpp::cli
