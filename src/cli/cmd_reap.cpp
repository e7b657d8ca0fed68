// iotxmpp reap: removes devices that have not been heard from for a while.

#include <CLI/CLI.hpp>

#include <cstdio>
#include <ctime>
#include <memory>
#include <string>

#include "cli/command.hpp"
#include "cli/db_option.hpp"
#include "cli/duration_option.hpp"
#include "cli/exit_codes.hpp"
#include "cli/json_output.hpp"
#include "core/base/clock.hpp"
#include "core/base/duration.hpp"
#include "core/store/store.hpp"

namespace iotxmpp::cli {
namespace {

struct reap_options {
  std::string db = default_db_url;
  std::string stale_after = "5m";
  bool dry_run = false;
  bool json = false;
};

// RFC 3339 UTC with microseconds: 2026-11-24T08:00:00.000000Z.
std::string utc_text(sys_micros t) {
  auto us = t.time_since_epoch().count();
  auto secs = us / 1'000'000, frac = us % 1'000'000;
  if (frac < 0) {
    frac += 1'000'000;
    --secs;
  }
  std::time_t tt = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(frac));
  return buf;
}

int run_reap(const reap_options& o) {
  std::chrono::microseconds stale = duration_value(o.stale_after);
  auto url = store_url::parse(o.db);
  if (!url) return report(url.error());
  auto db = open_store(*url);
  if (!db) return report(db.error());
  auto removed = (*db)->reap(clock::wall_now() - stale, o.dry_run);
  if (!removed) return report(removed.error());

  if (o.json) {
    json_value arr = json_value::array();
    for (const device_row& d : *removed) {
      arr.push_back({{"jid", d.jid},
                     {"room", d.room},
                     {"first_seen", utc_text(d.first_seen)},
                     {"last_update", utc_text(d.last_update)},
                     {"online", d.online},
                     {"show", d.show},
                     {"status", d.status}});
    }
    print_json(arr);
    return exit_ok;
  }
  for (const device_row& d : *removed)
    std::printf("%s room=%s last_update=%s\n", d.jid.c_str(), d.room.empty() ? "-" : d.room.c_str(),
                utc_text(d.last_update).c_str());
  std::string idle = format_duration(stale);
  std::size_t n = removed->size();
  const char* noun = n == 1 ? "device" : "devices";
  if (o.dry_run)
    std::fprintf(stderr, "dry run: %zu %s idle for more than %s in %s, nothing removed\n", n, noun,
                 idle.c_str(), url->redacted().c_str());
  else
    std::fprintf(stderr, "reaped %zu %s idle for more than %s from %s\n", n, noun, idle.c_str(),
                 url->redacted().c_str());
  return exit_ok;
}

}  // namespace

runner setup_reap(CLI::App& sub) {
  auto o = std::make_shared<reap_options>();
  add_db_option(sub, o->db);
  add_duration_option(sub, "--stale-after", o->stale_after,
                      "Remove devices whose last update is older than this (ms, s, m, h;\n"
                      "e.g. 90s, 5m, 1h30m; a bare number is seconds; 0: every device)",
                      zero_duration::allowed);
  sub.add_flag("--dry-run", o->dry_run, "List the stale devices without removing them");
  sub.add_flag("--json", o->json, "Print the devices as a JSON array of objects");
  sub.footer(
      "Prints each removed device (one line each, or --json), and a summary on\n"
      "stderr. Readings and recommendations stay. Safe while a server runs and\n"
      "from several places at once: each device is reported by one reaper only.");
  return [o] { return run_reap(*o); };
}

}  // namespace iotxmpp::cli
