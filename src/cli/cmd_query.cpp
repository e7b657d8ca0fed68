// iotxmpp query: ask the server one thing (recommendation, ping, devices,
// disco#info, version) and print the answer, as text or JSON.

#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <string>

#include "cli/client_options.hpp"
#include "cli/command.hpp"
#include "cli/exit_codes.hpp"
#include "cli/json_output.hpp"
#include "core/base/clock.hpp"
#include "core/client/queries.hpp"
#include "core/model/datetime.hpp"
#include "core/xml/xml_attr.hpp"
#include "core/xmpp/namespaces.hpp"

namespace iotxmpp::cli {
namespace {

using json = json_value;

// `text` padded with spaces to `width` characters (UTF-8 aware: "°C" is two).
std::string padded(std::string text, std::size_t width) {
  std::size_t chars = 0;
  for (unsigned char ch : text) chars += (ch & 0xC0) != 0x80;
  if (chars < width) text.append(width - chars, ' ');
  return text;
}

// What one query does with a connected client: prints its answer, or
// returns the error.
using query_fn =
    std::function<result<void>(blocking_client&, const client_flags&, std::chrono::milliseconds)>;

int run_query(const client_flags& flags, const query_fn& query) {
  auto timeout = timeout_of(flags);
  if (!timeout) return report(timeout.error());
  auto c = connect_client(flags);
  if (!c) return report(c.error());
  auto done = query(**c, flags, *timeout);
  (*c)->close();
  return done ? exit_ok : report(done.error());
}

result<void> recommend(blocking_client& c, const client_flags& f, std::chrono::milliseconds timeout,
                       const std::string& room) {
  auto reply = c.iq(recommend_request(f.domain, room), timeout);
  if (!reply) return std::unexpected(reply.error());
  auto r = parse_recommendation(*reply);
  if (!r) return std::unexpected(r.error());
  if (f.json) {
    json targets = json::array();
    for (const auto& t : r->targets)
      targets.push_back(
          {{"name", t.name}, {"value", t.value}, {"unit", t.unit}, {"action", t.action}});
    print_json({{"room", r->room},
                {"at", format_datetime(r->at)},
                {"period", r->period},
                {"targets", targets}});
    return {};
  }
  std::printf("%s at %s (%s)\n", r->room.c_str(), format_datetime(r->at).c_str(),
              r->period.c_str());
  for (const auto& t : r->targets) {
    std::string value = format_number(t.value) + (t.unit.empty() ? "" : " " + t.unit);
    std::printf("  %s %s %s\n", padded(t.name, 12).c_str(), padded(value, 10).c_str(),
                t.action.c_str());
  }
  return {};
}

result<void> ping(blocking_client& c, const client_flags& f, std::chrono::milliseconds timeout) {
  auto t0 = clock::steady_now();
  auto reply = c.iq(ping_request(f.domain), timeout);
  double ms = clock::milliseconds_since(t0);
  if (!reply) return std::unexpected(reply.error());
  if (f.json)
    print_json({{"server", f.server}, {"rtt_ms", ms}});
  else
    std::printf("pong from %s: %.3f ms\n", f.domain.c_str(), ms);
  return {};
}

// One device per line: its JID, then `key=value` columns: `room=` (of its
// latest report) and `node=` (holding its session), "-" when there is none;
// with --json one object per device with the same keys ("" for none).
result<void> devices(blocking_client& c, const client_flags& f, std::chrono::milliseconds timeout) {
  auto reply = c.iq(disco_items_request(f.domain), timeout);
  if (!reply) return std::unexpected(reply.error());
  auto items = parse_disco_items(*reply);
  // We are bound too while we ask, but we are not a device.
  const std::string me = c.async().address().to_string();
  std::erase_if(items, [&me](const disco_item& item) { return item.jid == me; });
  if (f.json) {
    json list = json::array();
    for (const auto& item : items)
      list.push_back({{"jid", item.jid}, {"room", item.name}, {"node", item.node}});
    print_json({{"count", items.size()}, {"devices", list}});
  } else {
    auto or_dash = [](const std::string& s) { return s.empty() ? "-" : s.c_str(); };
    for (const auto& item : items)
      std::printf("%s room=%s node=%s\n", item.jid.c_str(), or_dash(item.name), or_dash(item.node));
  }
  return {};
}

result<void> info(blocking_client& c, const client_flags& f, std::chrono::milliseconds timeout) {
  auto reply = c.iq(disco_info_request(f.domain), timeout);
  if (!reply) return std::unexpected(reply.error());
  auto i = parse_info(*reply);
  if (f.json) {
    json identities = json::array();
    for (const auto& id : i.identities)
      identities.push_back({{"category", id.category}, {"type", id.type}, {"name", id.name}});
    print_json({{"identities", identities}, {"features", i.features}});
    return {};
  }
  for (const auto& id : i.identities)
    std::printf("identity %s/%s %s\n", id.category.c_str(), id.type.c_str(), id.name.c_str());
  for (const auto& feature : i.features) std::printf("feature %s\n", feature.c_str());
  return {};
}

result<void> version(blocking_client& c, const client_flags& f, std::chrono::milliseconds timeout) {
  auto reply = c.iq(version_request(f.domain), timeout);
  if (!reply) return std::unexpected(reply.error());
  auto v = parse_version(*reply);
  if (f.json) {
    json out{{"name", v.name}, {"version", v.version}};
    if (!v.os.empty()) out["os"] = v.os;
    print_json(out);
  } else {
    std::string os = v.os.empty() ? "" : " (" + v.os + ")";
    std::printf("%s %s%s\n", v.name.c_str(), v.version.c_str(), os.c_str());
  }
  return {};
}

}  // namespace

runner setup_query(CLI::App& sub) {
  sub.description(
      "Ask the server one thing and print the answer (text, or --json for scripts).\n"
      "Exit codes: 0 answered, 2 usage, 3 cannot connect, 4 timeout, 5 error reply.");
  sub.require_subcommand(1);
  struct entry {
    CLI::App* app;
    std::shared_ptr<client_flags> flags;
    query_fn fn;
  };
  auto entries = std::make_shared<std::vector<entry>>();
  auto add = [&](const char* name, const char* help, query_fn fn) -> CLI::App* {
    CLI::App* app = sub.add_subcommand(name, help);
    entries->push_back({app, add_client_options(*app), std::move(fn)});
    return app;
  };

  auto room = std::make_shared<std::string>();
  add("recommend", "The recommended room status (targets and actions) for a room",
      [room](blocking_client& c, const client_flags& f, std::chrono::milliseconds t) {
        return recommend(c, f, t, *room);
      })
      ->add_option("-r,--room", *room, "Room to ask about")
      ->required();
  add("ping", "Round-trip time to the server (XEP-0199)", ping);
  add("devices", "Devices online now on any node, with their rooms and nodes (disco#items)",
      devices);
  add("info", "The server's identity and features (disco#info)", info);
  add("version", "The server's software version (XEP-0092)", version);

  return [entries]() -> int {
    for (const auto& e : *entries)
      if (e.app->parsed()) return run_query(*e.flags, e.fn);
    return exit_usage;
  };
}

}  // namespace iotxmpp::cli
