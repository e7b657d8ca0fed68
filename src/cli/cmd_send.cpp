// iotxmpp send: one status report, a presence change, or raw stanzas; exits
// 0 only once the server has processed all of it.

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/client_options.hpp"
#include "cli/command.hpp"
#include "cli/exit_codes.hpp"
#include "cli/json_output.hpp"
#include "core/base/clock.hpp"
#include "core/base/random_id.hpp"
#include "core/client/queries.hpp"
#include "core/model/datetime.hpp"
#include "core/xmpp/remote_error.hpp"

namespace iotxmpp::cli {
namespace {

struct status_flags {
  std::string room;
  double temperature = 0;
  std::optional<double> humidity, brightness;
  std::string at;
  std::string id;
};

struct presence_flags {
  std::string show, status;
  bool unavailable = false;
};

struct raw_flags {
  std::vector<std::string> stanzas;
  bool lines = false;
};

// A report id unique per run, so that this report is never taken for a
// resend of an earlier one (PROTOCOL.md §3.1).
std::string fresh_id() { return "send-" + random_hex(16); }

result<std::string> status_stanza(const status_flags& f, std::string_view domain) {
  status_report r;
  r.room = f.room;
  if (f.at.empty()) {
    auto now = clock::wall_now();
    r.taken_at = local_time{now, local_offset_minutes(now)};
  } else {
    auto at = parse_datetime(f.at);
    if (!at) return fail(error_kind::usage, "--at: " + at.error().message);
    r.taken_at = *at;
  }
  r.values.push_back({"temperature", f.temperature, "°C"});
  if (f.humidity) r.values.push_back({"humidity", *f.humidity, "%"});
  if (f.brightness) r.values.push_back({"brightness", *f.brightness, "lx"});
  return status_message(r, domain, f.id.empty() ? fresh_id() : f.id, 1);
}

// One stanza as the user typed it: well-formed XML, exactly one element.
result<void> check_raw(const std::string& text) {
  pugi::xml_document doc;
  auto parsed = doc.load_buffer(text.data(), text.size(), pugi::parse_default, pugi::encoding_utf8);
  if (!parsed)
    return fail(error_kind::usage,
                "not well-formed XML: " + std::string(parsed.description()) + ": " + text);
  int elements = 0;
  for (auto c : doc.children()) elements += c.type() == pugi::node_element;
  if (elements != 1) return fail(error_kind::usage, "expected exactly one stanza: " + text);
  return {};
}

// Sends `next()` stanzas until it returns nullopt, then waits until the
// server has processed them. Prints every stanza error the server returned.
int send_all(const client_flags& flags,
             const std::function<result<std::optional<std::string>>()>& next) {
  auto timeout = timeout_of(flags);
  if (!timeout) return report(timeout.error());
  auto connected = connect_client(flags);
  if (!connected) return report(connected.error());
  blocking_client& c = **connected;

  std::vector<error> refused;
  c.async().on_stanza([&](pugi::xml_node stanza) {
    if (std::string_view(stanza.attribute("type").value()) != "error") return;
    error e = stanza_error_of(stanza);
    std::string id = stanza.attribute("id").value();
    if (!id.empty()) e.message = "stanza '" + id + "' refused: " + e.message;
    refused.push_back(std::move(e));
  });
  std::optional<error> closed_why;
  c.async().on_closed([&](const std::optional<error>& why) { closed_why = why; });
  // After the stream died, its reason says more than "not connected".
  auto fail_with = [&](const error& e) { return report(closed_why ? *closed_why : e); };

  std::size_t sent = 0;
  while (true) {
    auto stanza = next();
    if (!stanza) return report(stanza.error());
    if (!*stanza) break;
    if (auto r = c.send(**stanza); !r) return fail_with(r.error());
    ++sent;
    c.poll();
  }
  // The server's XEP-0198 h (or, without stream management, its answer to a
  // ping) covers a stanza only once it was handled and committed, so it
  // proves the stanzas were processed.
  if (auto synced = c.sync(*timeout); !synced) return fail_with(synced.error());
  c.close();
  for (const auto& e : refused) report(e);
  if (flags.json) {
    json_value out{
        {"sent", sent}, {"refused", refused.size()}, {"jid", c.async().address().to_string()}};
    print_json(out);
  }
  return refused.empty() ? exit_ok : exit_remote;
}

// Yields each of `items` once.
std::function<result<std::optional<std::string>>()> from_list(std::vector<std::string> items) {
  auto list = std::make_shared<std::vector<std::string>>(std::move(items));
  auto at = std::make_shared<std::size_t>(0);
  return [list, at]() -> result<std::optional<std::string>> {
    if (*at == list->size()) return std::optional<std::string>{};
    return std::optional<std::string>{(*list)[(*at)++]};
  };
}

int run_raw(const client_flags& flags, const raw_flags& f) {
  if (f.lines != f.stanzas.empty())
    return report(error{
        error_kind::usage, "send raw: give stanzas as arguments or -l, not both or neither", {}});
  if (!f.lines) {
    for (const auto& s : f.stanzas)
      if (auto ok = check_raw(s); !ok) return report(ok.error());
    return send_all(flags, from_list(f.stanzas));
  }
  // One stanza per stdin line, sent as it is read (like mosquitto_pub -l).
  return send_all(flags, []() -> result<std::optional<std::string>> {
    std::string line;
    while (std::getline(std::cin, line)) {
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      if (auto ok = check_raw(line); !ok) return std::unexpected(ok.error());
      return std::optional<std::string>{line};
    }
    return std::optional<std::string>{};
  });
}

}  // namespace

runner setup_send(CLI::App& sub) {
  sub.description(
      "Send a status report, a presence change or raw stanzas, as a device would.\n"
      "Exits 0 once the server has processed everything (its XEP-0198 acknowledgement,\n"
      "or a ping when it offers no stream management, proves it); 5 with the\n"
      "server's error condition when it refused a stanza.");
  sub.require_subcommand(1);

  auto status = std::make_shared<status_flags>();
  CLI::App* s = sub.add_subcommand("status", "Send one room status report");
  auto status_client = add_client_options(*s);
  s->add_option("-r,--room", status->room, "Room (the report's nodeId)")->required();
  s->add_option("--temperature", status->temperature, "Temperature in °C")->required();
  s->add_option("--humidity", status->humidity, "Relative humidity in %");
  s->add_option("--brightness", status->brightness, "Brightness in lx");
  s->add_option("--at", status->at, "Timestamp, XEP-0082 with offset (default: now, local offset)");
  s->add_option("--id", status->id, "Stanza id (default: a fresh random one)");

  auto presence = std::make_shared<presence_flags>();
  CLI::App* p = sub.add_subcommand("presence", "Announce availability (or --unavailable)");
  auto presence_client = add_client_options(*p);
  p->add_option("--show", presence->show, "Availability detail")
      ->check(CLI::IsMember({"away", "chat", "dnd", "xa"}));
  p->add_option("--status", presence->status, "Free-text status");
  p->add_flag("--unavailable", presence->unavailable, "Announce going offline");

  auto raw = std::make_shared<raw_flags>();
  CLI::App* r = sub.add_subcommand("raw", "Send stanzas as given (the server stamps 'from')");
  auto raw_client = add_client_options(*r);
  r->add_option("stanza", raw->stanzas, "One stanza per argument");
  r->add_flag("-l,--lines", raw->lines, "Read one stanza per line from stdin");

  return [=]() -> int {
    if (s->parsed()) {
      auto stanza = status_stanza(*status, status_client->domain);
      if (!stanza) return report(stanza.error());
      return send_all(*status_client, from_list({*stanza}));
    }
    if (p->parsed())
      return send_all(
          *presence_client,
          from_list({presence_stanza(!presence->unavailable, presence->show, presence->status)}));
    return run_raw(*raw_client, *raw);
  };
}

}  // namespace iotxmpp::cli
