// iotxmpp tail: follow the live feed (PROTOCOL.md §3.4), one line per status
// report or presence change, reconnecting when the server goes away.

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "cli/client_options.hpp"
#include "cli/command.hpp"
#include "cli/exit_codes.hpp"
#include "cli/json_output.hpp"
#include "core/base/clock.hpp"
#include "core/base/log.hpp"
#include "core/client/queries.hpp"
#include "core/model/datetime.hpp"
#include "core/xml/xml_attr.hpp"

namespace iotxmpp::cli {
namespace {

struct tail_flags {
  std::string room;
  std::size_t count = 0;  // 0: no limit
};

std::string local_text(sys_micros t) { return format_datetime({t, local_offset_minutes(t)}); }

std::string text_line(const feed_event& e) {
  std::string line;
  if (e.what == feed_event::kind::report) {
    const auto& r = e.report;
    line = format_datetime(r.taken_at) + " " + r.room;
    for (const auto& v : r.values) line += " " + v.name + "=" + format_number(v.value) + v.unit;
    line += " from=" + r.device_jid;
    return line;
  }
  const auto& p = e.presence;
  line =
      local_text(p.at) + " presence " + p.device_jid + (p.online ? " available" : " unavailable");
  if (!p.show.empty()) line += " show=" + p.show;
  if (!p.status.empty()) line += " status=" + json_text(json_value(p.status));
  return line;
}

std::string json_line(const feed_event& e) {
  json_value j;
  if (e.what == feed_event::kind::report) {
    const auto& r = e.report;
    json_value values = json_value::object(), units = json_value::object();
    for (const auto& v : r.values) {
      values[v.name] = v.value;
      units[v.name] = v.unit;
    }
    j = {{"type", "report"},
         {"from", r.device_jid},
         {"room", r.room},
         {"id", r.stanza_id},
         {"at", format_datetime(r.taken_at)},
         {"received", local_text(r.received_at)},
         {"values", values},
         {"units", units}};
  } else {
    const auto& p = e.presence;
    j = {{"type", "presence"}, {"from", p.device_jid}, {"available", p.online},
         {"show", p.show},     {"status", p.status},   {"received", local_text(p.at)}};
  }
  return json_text(j);
}

int run_tail(const client_flags& flags, const tail_flags& f, bool quiet_exit) {
  auto timeout = timeout_of(flags);
  if (!timeout) return report(timeout.error());
  auto connected = connect_client(flags);
  if (!connected) return report(connected.error());
  blocking_client& c = **connected;
  c.watch_interrupts();

  std::size_t events = 0;
  std::optional<error> refused;  // the server refused the subscription
  bool was_up = true;
  c.async().on_stanza([&](pugi::xml_node stanza) {
    auto e = parse_feed_event(stanza, clock::wall_now());
    if (!e) {
      log::debug("not a feed event", {{"reason", e.error().message}});
      return;
    }
    if (f.count && events >= f.count) return;
    std::string line = flags.json ? json_line(*e) : text_line(*e);
    std::fprintf(stdout, "%s\n", line.c_str());
    std::fflush(stdout);  // one line at a time, also into a pipe
    ++events;
  });
  client& async = c.async();
  auto subscribe = [&] {
    const bool again = !was_up;
    was_up = true;
    if (again && async.resumed()) {
      // The same stream (XEP-0198): still subscribed, and the server sends
      // again the events this client had not acknowledged.
      log::info("resumed; the events missed meanwhile follow", {{"server", flags.server}});
      return;
    }
    // A new stream (the server restarted, or the stream was not
    // resumable): what was accepted while we were away is not sent.
    if (again)
      log::warn("reconnected on a new stream; events accepted while disconnected are not shown",
                {{"server", flags.server}});
    async.send_iq(subscribe_request(flags.domain, f.room), *timeout, [&](result<xml_element> r) {
      if (r) return;
      if (r.error().kind == error_kind::remote)
        refused = r.error();
      else
        log::warn("subscribe failed", {{"error", r.error().message}});
    });
  };
  auto lost = [&](const error& e) {
    if (was_up) log::warn("connection lost; reconnecting", {{"reason", e.message}});
    was_up = false;
  };
  async.keep_connected({std::chrono::milliseconds(200), std::chrono::seconds(5), 0.5}, subscribe,
                       lost);

  // The quiet-time clock restarts with every event.
  auto window = quiet_exit ? *timeout : std::chrono::milliseconds(std::chrono::hours(24 * 365));
  int code = exit_ok;
  while (true) {
    std::size_t seen = events;
    auto why = c.run_until(
        [&] { return refused || events > seen || (f.count && events >= f.count); }, window);
    if (why == blocking_client::stop_reason::done) {
      if (refused) {
        code = report(*refused);
        break;
      }
      if (f.count && events >= f.count) break;
      continue;
    }
    // Quiet for the whole window: a plain end, unless -n promised N events.
    if (why == blocking_client::stop_reason::timeout && f.count) code = exit_timeout;
    if (why == blocking_client::stop_reason::idle) code = exit_failure;
    break;
  }
  c.close();
  return code;
}

}  // namespace

runner setup_tail(CLI::App& sub) {
  sub.description(
      "Follow the live feed: one line per status report or presence change as the server\n"
      "accepts it (JSON lines with --json). After a lost connection it resumes the stream\n"
      "(XEP-0198) and gets the events it missed, or, when the server no longer has it (a\n"
      "restart), subscribes again and warns that the events meanwhile are not shown. On\n"
      "several nodes sharing one database, the feed carries every node's events. Ctrl-C\n"
      "ends it (exit 0).");
  auto flags = add_client_options(
      sub,
      "Connect/subscribe timeout; given explicitly, also exit after this long without an event "
      "(exit 0, or 4 when -n was not reached)");
  auto f = std::make_shared<tail_flags>();
  sub.add_option("-r,--room", f->room, "Only this room's reports and devices");
  sub.add_option("-n,--count", f->count, "Exit after this many events")->check(CLI::PositiveNumber);
  CLI::Option* timeout = sub.get_option("--timeout");
  return [flags, f, timeout] { return run_tail(*flags, *f, timeout->count() > 0); };
}

}  // namespace iotxmpp::cli
