// iotxmpp_loadgen: a lean load generator for iotxmpp, Prosody and Mosquitto.
// Every byte a timed phase sends is built before the clock starts; one epoll
// thread drives all connections. Prints one JSON object on stdout.
//
//   iotxmpp_loadgen ingest    --port P [--conns 50 --reports 20000 --size 300 --tag T --probe]
//   iotxmpp_loadgen ingest    --port P --sm   (XEP-0198: <r/> and <a h/> instead of the ping)
//   iotxmpp_loadgen ingest    --port P1,P2 ...   (connection i to the (i mod n)-th port:
//                             several servers, one clock; --probe asks the first)
//   iotxmpp_loadgen ingest    --proto mqtt --port P --qos 1|0
//   iotxmpp_loadgen ingest    --port P --domain localhost --sink   (Prosody: to a bound user)
//   iotxmpp_loadgen logins    --port P [--sessions 5000 --inflight 200 --sources 8]
//                             (logins and ingest with --pid: the server's CPU too)
//   iotxmpp_loadgen idle      --port P --pid SERVER_PID [--sessions 10000 --settle 2]
//   iotxmpp_loadgen recommend --port P [--samples 2000 --gap-us 500]
//   iotxmpp_loadgen resume    --port P [--sessions 5000 --inflight 200 --sources 8
//                             --drop rst|fin --settle 2]   (XEP-0198 resumptions/s)
//
// Any of the first three over TLS: --tls direct (XMPP XEP-0368, or MQTT's
// TLS listener) or --tls starttls (XMPP), --tls-ca FILE to verify the
// server. As accounts: --user-pattern 'dev{n}' --password P (XMPP
// SCRAM-SHA-256, MQTT username/password; connection n logs in as dev{n}).
// logins --warmup logs every account in once, untimed, first.

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <deque>
#include <iostream>
#include <map>
#include <optional>
#include <stdexcept>
#include <thread>

#include "loadgen_session.hpp"
#include "loadgen_wire.hpp"

namespace loadgen {
namespace {

struct options {
  std::string scenario;
  target t;
  std::size_t conns = 50, reports = 20000, size = 300;
  std::string tag;
  std::string room_prefix = "bench-";
  bool sink = false;   // XMPP: send to a bound user (Prosody), not the domain
  bool probe = false;  // ingest: measure recommend round trips meanwhile
  bool sm = false;     // ingest over XMPP: end with XEP-0198 <r/> instead of a ping
  int qos = 1;
  std::size_t sessions = 5000, inflight = 200, samples = 2000;
  long gap_us = 500;
  long pid = 0;
  double settle = 2, timeout = 300;
  std::string tls_ca;
  bool warmup = false;    // logins: one untimed pass first (fills the SCRAM cache)
  bool drop_fin = false;  // resume: drop the old connections with FIN, not RST
};

std::string usage() {
  return "usage: iotxmpp_loadgen ingest|logins|idle|recommend|resume [--host H] [--port P]\n"
         "  [--proto xmpp|mqtt] [--domain D] [--conns C] [--reports R] [--size B] [--tag T]\n"
         "  [--room-prefix P] [--sink] [--probe] [--qos 0|1] [--sessions N] [--inflight W]\n"
         "  [--sources K] [--samples S] [--gap-us U] [--pid PID] [--settle S] [--timeout S]\n"
         "  [--tls none|direct|starttls] [--tls-ca FILE] [--user-pattern 'dev{n}' --password P]\n"
         "  [--warmup] [--sm] [--drop rst|fin]\n";
}

options parse(int argc, char** argv) {
  if (argc < 2) throw std::invalid_argument(usage());
  options o;
  o.scenario = argv[1];
  o.tag = "t" + std::to_string(time(nullptr)) + "p" + std::to_string(getpid());
  std::size_t sources = 1;
  for (int i = 2; i < argc; ++i) {
    std::string k = argv[i];
    if (k == "--sink") {
      o.sink = true;
      continue;
    }
    if (k == "--probe") {
      o.probe = true;
      continue;
    }
    if (k == "--sm") {
      o.sm = true;
      continue;
    }
    if (k == "--warmup") {
      o.warmup = true;
      continue;
    }
    if (i + 1 >= argc) throw std::invalid_argument("missing value for " + k + "\n" + usage());
    std::string v = argv[++i];
    if (k == "--host")
      o.t.to.host = v;
    else if (k == "--port") {
      // P or P1,P2,...: connection i to the (i mod n)-th port.
      o.t.ports.clear();
      for (std::size_t at = 0; at <= v.size();) {
        std::size_t comma = std::min(v.find(',', at), v.size());
        o.t.ports.push_back(static_cast<unsigned short>(std::stoul(v.substr(at, comma - at))));
        at = comma + 1;
      }
      o.t.to.port = o.t.ports.front();
      if (o.t.ports.size() == 1) o.t.ports.clear();
    } else if (k == "--proto")
      o.t.proto = v == "mqtt" ? protocol::mqtt : protocol::xmpp;
    else if (k == "--domain")
      o.t.domain = v;
    else if (k == "--conns")
      o.conns = std::stoul(v);
    else if (k == "--reports")
      o.reports = std::stoul(v);
    else if (k == "--size")
      o.size = std::stoul(v);
    else if (k == "--tag")
      o.tag = v;
    else if (k == "--room-prefix")
      o.room_prefix = v;
    else if (k == "--qos")
      o.qos = std::stoi(v);
    else if (k == "--sessions")
      o.sessions = std::stoul(v);
    else if (k == "--inflight")
      o.inflight = std::stoul(v);
    else if (k == "--sources")
      sources = std::stoul(v);
    else if (k == "--samples")
      o.samples = std::stoul(v);
    else if (k == "--gap-us")
      o.gap_us = std::stol(v);
    else if (k == "--pid")
      o.pid = std::stol(v);
    else if (k == "--settle")
      o.settle = std::stod(v);
    else if (k == "--timeout")
      o.timeout = std::stod(v);
    else if (k == "--tls" && (v == "none" || v == "direct" || v == "starttls"))
      o.t.tls = v == "none"     ? tls_mode::none
                : v == "direct" ? tls_mode::direct
                                : tls_mode::starttls;
    else if (k == "--tls-ca")
      o.tls_ca = v;
    else if (k == "--user-pattern")
      o.t.user_pattern = v;
    else if (k == "--password")
      o.t.password = v;
    else if (k == "--drop" && (v == "rst" || v == "fin"))
      o.drop_fin = v == "fin";
    else
      throw std::invalid_argument("unknown option " + k + "\n" + usage());
  }
  if (o.t.tls == tls_mode::starttls && o.t.proto == protocol::mqtt)
    throw std::invalid_argument("--tls starttls is XMPP only");
  if (o.probe && o.t.tls != tls_mode::none)
    throw std::invalid_argument("--probe speaks plain XMPP: not with --tls");
  // Several loopback source addresses (127.0.0.1, .2, ...) stand for a fleet
  // behind several addresses and multiply the ephemeral ports available.
  if (sources > 1 && o.t.to.host.rfind("127.", 0) == 0)
    for (std::size_t s = 0; s < sources; ++s)
      o.t.sources.push_back("127.0.0." + std::to_string(1 + s));
  return o;
}

steady::time_point deadline_of(const options& o) {
  return steady::now() + std::chrono::milliseconds(static_cast<long long>(o.timeout * 1000));
}

const char* proto_name(const options& o) { return o.t.proto == protocol::xmpp ? "xmpp" : "mqtt"; }

json_object common(const options& o) {
  json_object j;
  const char* tls[] = {"none", "direct", "starttls"};
  j.text("scenario", o.scenario)
      .text("proto", proto_name(o))
      .integer("port", o.t.to.port)
      .integer("servers", static_cast<long long>(std::max<std::size_t>(1, o.t.ports.size())))
      .text("tls", tls[static_cast<int>(o.t.tls)]);
  if (o.t.proto == protocol::xmpp) {
    j.text("sasl", o.t.user_pattern.empty() ? "ANONYMOUS" : "SCRAM-SHA-256");
    if (o.scenario == "ingest") j.text("barrier", o.sm ? "xep-0198" : "ping");
  } else
    j.text("auth", o.t.user_pattern.empty() ? "anonymous" : "username/password");
  return j;
}

json_object failed(json_object j, const std::string& why) {
  j.text("error", why);
  return j;
}

// What each ingest connection sends, built before the clock: the reports
// (unique ids per room and run) and, over XMPP, a ping whose answer means
// that everything before it is committed (iotxmpp) or routed (Prosody);
// over MQTT QoS 0 a PINGREQ plays that part.
std::string ingest_bytes(const options& o, std::size_t k, const std::string& to) {
  std::string room = o.room_prefix + std::to_string(k);
  std::string out;
  out.reserve(o.reports * (o.size + 40) + 128);
  // XEP-0198: enabled first (inside the timed span: one element), so h
  // counts exactly the reports.
  if (o.t.proto == protocol::xmpp && o.sm) out += "<enable xmlns='urn:xmpp:sm:3'/>";
  for (std::size_t i = 0; i < o.reports; ++i) {
    std::string id = o.tag + "-" + std::to_string(i);
    std::string report = xmpp_report(to, id, i + 1, room, o.size);
    if (o.t.proto == protocol::xmpp)
      out += report;
    else
      out += mqtt_publish("iot/" + room, report, o.qos, static_cast<std::uint16_t>(i % 65535 + 1));
  }
  if (o.t.proto == protocol::xmpp && o.sm)
    out += "<r xmlns='urn:xmpp:sm:3'/>";  // answered once every report is committed
  else if (o.t.proto == protocol::xmpp)
    out += xmpp_ping(o.t.domain, "pe" + o.tag + "-" + std::to_string(k));
  else if (o.qos == 0)
    out += mqtt_pingreq();
  return out;
}

// Counts what the peer sends back during ingest and decides when a
// connection has seen the end of its load.
struct ingest_watch {
  needle_counter end;  // the ping answer / PINGRESP
  needle_counter err1{"type='error'"}, err2{"type=\"error\""}, stream_err{"<stream:error"};
  std::size_t base = 0;  // bytes received before the clock
  bool done = false;
};

std::string run_ingest(const options& o) {
  json_object j = common(o);
  event_loop loop;
  std::deque<connection> conns(o.conns + (o.sink ? 1 : 0));
  auto deadline = deadline_of(o);
  auto login =
      login_all(loop, conns, o.t, std::min<std::size_t>(o.inflight, conns.size()), deadline);
  if (login.bound != conns.size()) return failed(j, "login: " + loop.last_error()).str();
  std::string to = o.t.domain;
  connection* sink = nullptr;
  needle_counter delivered("</message>");
  if (o.sink) {
    sink = &conns.back();
    to = sink->in;  // its bound JID
    sink->on_read = [&delivered](connection&, std::string_view d) { delivered.feed(d); };
  }
  const bool xmpp = o.t.proto == protocol::xmpp;
  std::vector<std::string> bytes(o.conns);
  for (std::size_t k = 0; k < o.conns; ++k) bytes[k] = ingest_bytes(o, k, to);
  std::vector<ingest_watch> watch(o.conns);
  std::size_t ended = 0;
  auto last = steady::now();
  for (std::size_t k = 0; k < o.conns; ++k) {
    auto& w = watch[k];
    // A ping answer arrives only on its own connection, so its id cannot
    // be confused with another connection's ("pe…-1" vs "pe…-10").
    w.end =
        needle_counter(!xmpp  ? std::string(mqtt_pingresp)
                       : o.sm ? "<a xmlns='urn:xmpp:sm:3' h='" + std::to_string(o.reports) + "'/>"
                              : "pe" + o.tag + "-" + std::to_string(k));
    w.base = conns[k].received;
    conns[k].on_read = [&, k](connection& c, std::string_view d) {
      auto& w = watch[k];
      w.err1.feed(d);
      w.err2.feed(d);
      if (w.stream_err.feed(d))
        loop.fail(c, "stream error during ingest: " + std::string(d.substr(0, 300)));
      bool end = (xmpp || o.qos == 0) ? w.end.feed(d) > 0
                                      : c.received - w.base >= o.reports * mqtt_puback_size;
      if (end && !w.done) {
        w.done = true;
        ++ended;
        last = steady::now();
      }
    };
  }
  recommend_prober prober;
  std::atomic<bool> stop{false};
  std::thread probe_thread;
  if (o.probe && !prober.start(o.t, o.room_prefix + "0")) return failed(j, prober.error()).str();

  const double cpu0 = cpu_seconds();
  const double server0 = o.pid > 0 ? process_cpu_seconds(o.pid) : -1;
  const auto t0 = steady::now();
  if (o.probe)
    probe_thread =
        std::thread([&] { prober.run(SIZE_MAX, std::chrono::microseconds(o.gap_us), stop); });
  for (std::size_t k = 0; k < o.conns; ++k) loop.send(conns[k], bytes[k]);
  const std::size_t expected = o.conns * o.reports;
  const std::size_t failures0 = loop.failures();
  bool finished = loop.run(
      [&] {
        return loop.failures() > failures0 ||
               (ended == o.conns && (!sink || delivered.count() >= expected));
      },
      deadline);
  if (sink) last = steady::now();
  const double cpu = cpu_seconds() - cpu0;
  const double server_cpu = server0 >= 0 ? process_cpu_seconds(o.pid) - server0 : -1;
  stop = true;
  if (probe_thread.joinable()) probe_thread.join();
  const double seconds = std::chrono::duration<double>(last - t0).count();
  const double wall = std::chrono::duration<double>(steady::now() - t0).count();
  std::size_t errors = 0;
  for (auto& w : watch) errors += w.err1.count() + w.err2.count() + w.stream_err.count();
  j.integer("conns", static_cast<long long>(o.conns))
      .integer("reports_per_conn", static_cast<long long>(o.reports))
      .integer("reports", static_cast<long long>(expected))
      .integer("report_bytes",
               static_cast<long long>(
                   xmpp_report(to, o.tag + "-0", 1, o.room_prefix + "0", o.size).size()))
      .text("tag", o.tag)
      .number("seconds", seconds)
      .number("reports_per_s", seconds > 0 ? static_cast<double>(expected) / seconds : 0)
      .integer("error_replies", static_cast<long long>(errors))
      .number("generator_cpu_s", cpu)
      .number("generator_cpu_share", wall > 0 ? cpu / wall : 0);
  if (server_cpu >= 0)
    j.number("server_cpu_s", server_cpu)
        .number("server_cpu_us_per_report", server_cpu * 1e6 / static_cast<double>(expected));
  if (sink) j.integer("delivered", static_cast<long long>(delivered.count()));
  if (o.probe) {
    j.raw("recommend", latency_json(prober.rtt_ms()));
    if (!prober.error().empty()) j.text("probe_error", prober.error());
  }
  if (!finished)
    j.text("error", "timeout after " + std::to_string(o.timeout) + " s");
  else if (loop.failures() > failures0)
    j.text("error", loop.last_error());
  else if (errors)
    j.text("error", "the server answered with errors");
  return j.str();
}

std::string run_logins(const options& o) {
  json_object j = common(o);
  event_loop loop;
  if (o.warmup) {
    // The same accounts once, untimed: a device that logs in again reuses
    // its salted password (and the server has seen each account once).
    std::deque<connection> warm(o.sessions);
    auto w = login_all(loop, warm, o.t, o.inflight, deadline_of(o));
    for (auto& c : warm) loop.close(c);
    if (w.bound != o.sessions) return failed(j, "warm-up login: " + loop.last_error()).str();
    j.number("warmup_seconds", w.seconds);
  }
  std::deque<connection> conns(o.sessions);
  const double cpu0 = cpu_seconds();
  const double server0 = o.pid > 0 ? process_cpu_seconds(o.pid) : -1;
  const auto t0 = steady::now();
  auto login = login_all(loop, conns, o.t, o.inflight, deadline_of(o));
  const double cpu = cpu_seconds() - cpu0;
  const double server_cpu = server0 >= 0 ? process_cpu_seconds(o.pid) - server0 : -1;
  const double wall = std::chrono::duration<double>(steady::now() - t0).count();
  for (auto& c : conns) loop.close(c);
  j.integer("sessions", static_cast<long long>(o.sessions))
      .integer("bound", static_cast<long long>(login.bound))
      .integer("inflight", static_cast<long long>(o.inflight))
      .integer("sources", static_cast<long long>(std::max<std::size_t>(1, o.t.sources.size())))
      .number("seconds", login.seconds)
      .number("logins_per_s",
              login.seconds > 0 ? static_cast<double>(login.bound) / login.seconds : 0)
      .raw("latency", latency_json(login.latency_ms))
      .number("generator_cpu_s", cpu)
      .number("generator_cpu_share", wall > 0 ? cpu / wall : 0);
  // With --pid: the server's CPU over the same span, a figure that the
  // machine's other load moves less than the rate.
  if (server_cpu >= 0 && login.bound > 0)
    j.number("server_cpu_s", server_cpu)
        .number("server_cpu_ms_per_login", server_cpu * 1e3 / static_cast<double>(login.bound));
  if (login.bound != o.sessions) j.text("error", "login: " + loop.last_error());
  return j.str();
}

std::string run_idle(const options& o) {
  json_object j = common(o);
  if (o.pid <= 0) return failed(j, "idle needs --pid of the server").str();
  event_loop loop;
  std::deque<connection> conns(o.sessions);
  const long before = rss_kib(o.pid);
  auto login = login_all(loop, conns, o.t, o.inflight, deadline_of(o));
  // Let the server settle (writes of the logins, timers) before measuring.
  std::size_t failures0 = loop.failures();
  loop.run([&] { return loop.failures() > failures0; },
           steady::now() + std::chrono::milliseconds(static_cast<long long>(o.settle * 1000)));
  const long after = rss_kib(o.pid);
  std::size_t open = 0;
  for (auto& c : conns) open += c.fd >= 0 ? 1 : 0;
  for (auto& c : conns) loop.close(c);
  double per = open ? static_cast<double>(after - before) * 1024.0 / static_cast<double>(open) : 0;
  j.integer("sessions", static_cast<long long>(o.sessions))
      .integer("bound", static_cast<long long>(login.bound))
      .integer("open_at_measure", static_cast<long long>(open))
      .integer("rss_before_kib", before)
      .integer("rss_after_kib", after)
      .number("bytes_per_session", per)
      .number("login_seconds", login.seconds);
  if (before < 0 || after < 0)
    j.text("error", "cannot read /proc/" + std::to_string(o.pid) + "/status");
  else if (open != o.sessions)
    j.text("error", "sessions lost: " + loop.last_error());
  return j.str();
}

// The value of attribute `name` in the start tag at `at` of `in` (either
// quote); nullopt when the tag or the attribute is missing or incomplete.
std::optional<std::string> attribute(const std::string& in, std::size_t at, std::string_view name) {
  auto gt = in.find('>', at);
  if (gt == std::string::npos) return std::nullopt;
  for (char quote : {'\'', '"'}) {
    std::string key(1, ' ');
    key.append(name).append(1, '=').append(1, quote);
    auto k = in.find(key, at);
    if (k == std::string::npos || k > gt) continue;
    auto begin = k + key.size();
    auto end = in.find(quote, begin);
    if (end == std::string::npos || end > gt) return std::nullopt;
    return in.substr(begin, end - begin);
  }
  return std::nullopt;
}

// XEP-0198 resumptions per second. Untimed: N anonymous streams log in,
// bind and <enable resume='true'/> (each id kept), then every TCP
// connection is dropped at once (RST, or FIN with --drop fin) and the
// server is given --settle seconds to notice (a stream it has not yet seen
// lost is detached by the resumption itself, so this is not needed for
// correctness). Timed: N new connections, at most --inflight at once over
// --sources addresses, each logging in anonymously (stream, SASL
// ANONYMOUS, restart) and sending <resume previd h='0'/> in place of bind,
// from the first new connect to the last <resumed/>: the same round trips
// and span as `logins` (connect to bound), so the two rates compare
// directly. Every answer is checked: <resumed/> must name its previd and
// h='0' (the old streams sent no stanza after <enable/>); a <failed/> or a
// wrong <resumed/> is counted and makes the run an error. The resumed
// streams then close with </stream:stream>, so none is left detached.
std::string run_resume(const options& o) {
  json_object j = common(o);
  if (o.t.proto != protocol::xmpp) return failed(j, "resume is XMPP only").str();
  if (!o.t.user_pattern.empty()) return failed(j, "resume logs in anonymously").str();
  const std::size_t n = o.sessions;
  event_loop loop;
  auto deadline = deadline_of(o);

  // 1. N resumable streams.
  const auto e0 = steady::now();
  std::deque<connection> old(n);
  auto login = login_all(loop, old, o.t, o.inflight, deadline);
  if (login.bound != n) return failed(j, "login: " + loop.last_error()).str();
  std::vector<std::string> ids(n);
  std::size_t enabled = 0;
  static const std::string enable = "<enable xmlns='urn:xmpp:sm:3' resume='true'/>";
  for (auto& c : old) {
    c.in.clear();
    c.on_read = [&](connection& c, std::string_view d) {
      if (!ids[c.index].empty()) return;
      c.in.append(d);
      if (c.in.find("<stream:error") != std::string::npos ||
          c.in.find("<failed") != std::string::npos) {
        loop.fail(c, "enable refused: " + c.in.substr(0, 300));
        return;
      }
      auto at = c.in.find("<enabled");
      if (at == std::string::npos || c.in.find('>', at) == std::string::npos) return;
      auto id = attribute(c.in, at, "id");
      auto resume = attribute(c.in, at, "resume");
      if (!id || id->empty() || !resume || (*resume != "true" && *resume != "1")) {
        loop.fail(c, "no resumption offered (serve --resume-window 0?): " + c.in.substr(0, 300));
        return;
      }
      ids[c.index] = *id;
      ++enabled;
    };
    loop.send(c, enable);
  }
  std::size_t failures0 = loop.failures();
  loop.run([&] { return enabled == n || loop.failures() > failures0; }, deadline);
  if (enabled != n)
    return failed(j, "enable: " + std::to_string(enabled) + " of " + std::to_string(n) + ": " +
                         loop.last_error())
        .str();
  const double enable_seconds = std::chrono::duration<double>(steady::now() - e0).count();

  // 2. Every connection lost at once.
  for (auto& c : old) {
    c.on_read = nullptr;
    loop.close(c, !o.drop_fin);
  }
  loop.run([] { return false; },
           std::min(deadline, steady::now() + std::chrono::milliseconds(
                                                  static_cast<long long>(o.settle * 1000))));

  // 3. N resumptions, timed.
  std::deque<connection> fresh(n);
  std::optional<steady::time_point> first_request;
  login_ending resume{
      [&](std::size_t i) {
        if (!first_request) first_request = steady::now();
        return "<resume xmlns='urn:xmpp:sm:3' previd='" + ids[i] + "' h='0'/>";
      },
      [](const std::string& in) {
        auto ok = in.find("<resumed");
        if (ok != std::string::npos) return in.find('>', ok) == std::string::npos ? 0 : 1;
        auto no = in.find("<failed");
        if (no == std::string::npos) return 0;
        auto gt = in.find('>', no);
        if (gt == std::string::npos) return 0;
        return in[gt - 1] == '/' || in.find("</failed>", gt) != std::string::npos ? -1 : 0;
      }};
  const double cpu0 = cpu_seconds();
  const double server0 = o.pid > 0 ? process_cpu_seconds(o.pid) : -1;
  const auto t0 = steady::now();
  failures0 = loop.failures();
  auto res = login_all(loop, fresh, o.t, o.inflight, deadline, &resume);
  const double cpu = cpu_seconds() - cpu0;
  const double server_cpu = server0 >= 0 ? process_cpu_seconds(o.pid) - server0 : -1;
  const double wall = std::chrono::duration<double>(steady::now() - t0).count();
  std::size_t wrong = 0;
  std::string first_failed, first_wrong;
  for (auto& c : fresh) {
    if (c.step == 6 && first_failed.empty()) first_failed = c.in.substr(0, 300);
    if (c.step != 5) continue;
    auto at = c.in.find("<resumed");
    auto previd = attribute(c.in, at, "previd");
    auto h = attribute(c.in, at, "h");
    if (!previd || *previd != ids[c.index] || !h || *h != "0") {
      ++wrong;
      if (first_wrong.empty()) first_wrong = c.in.substr(0, 300);
    }
  }
  const bool lost = loop.failures() > failures0;
  const std::string lost_why = loop.last_error();

  // 4. Close the resumed streams properly (</stream:stream> both ways), so
  // that no session is left detached for the window; the rest are reset.
  std::size_t closing = 0, closed_cleanly = 0;
  static const std::string bye = "</stream:stream>";
  for (auto& c : fresh) {
    if (c.step != 5 || c.fd < 0) {
      loop.close(c);
      continue;
    }
    ++closing;
    c.in.clear();
    c.on_read = [&](connection& c, std::string_view d) {
      c.in.append(d);
      if (c.in.find(bye) == std::string::npos) return;
      ++closed_cleanly;
      loop.close(c);
    };
    loop.send(c, bye);
  }
  const std::size_t failures1 = loop.failures();
  loop.run([&] { return closed_cleanly + (loop.failures() - failures1) >= closing; },
           steady::now() + std::chrono::seconds(30));
  for (auto& c : fresh) loop.close(c);

  const std::size_t resumed = res.bound - std::min(res.bound, wrong);
  j.integer("sessions", static_cast<long long>(n))
      .integer("enabled", static_cast<long long>(enabled))
      .number("enable_seconds", enable_seconds)
      .text("drop", o.drop_fin ? "fin" : "rst")
      .number("settle_s", o.settle)
      .integer("inflight", static_cast<long long>(o.inflight))
      .integer("sources", static_cast<long long>(std::max<std::size_t>(1, o.t.sources.size())))
      .integer("resumed", static_cast<long long>(resumed))
      .integer("failed", static_cast<long long>(res.refused))
      .integer("wrong_answer", static_cast<long long>(wrong))
      .number("seconds", res.seconds)
      .number("seconds_from_first_request",
              first_request ? std::chrono::duration<double>(res.last - *first_request).count() : 0)
      .number("resumes_per_s", res.seconds > 0 ? static_cast<double>(resumed) / res.seconds : 0)
      .raw("latency", latency_json(res.latency_ms))
      .number("generator_cpu_s", cpu)
      .number("generator_cpu_share", wall > 0 ? cpu / wall : 0)
      .integer("closed_cleanly", static_cast<long long>(closed_cleanly));
  if (server_cpu >= 0 && res.bound > 0)
    j.number("server_cpu_s", server_cpu)
        .number("server_cpu_ms_per_resume", server_cpu * 1e3 / static_cast<double>(res.bound));
  if (res.refused > 0)
    j.text("error", std::to_string(res.refused) + " of " + std::to_string(n) +
                        " resumptions failed, the first: " + first_failed);
  else if (wrong > 0)
    j.text("error", std::to_string(wrong) +
                        " <resumed/> with a wrong previd or h, the first: " + first_wrong);
  else if (lost || res.bound != n)
    j.text("error", "resume: " + std::to_string(res.bound) + " of " + std::to_string(n) +
                        " resumed: " + (lost ? lost_why : "timeout"));
  return j.str();
}

std::string run_recommend(const options& o) {
  json_object j = common(o);
  recommend_prober prober;
  if (!prober.start(o.t, o.room_prefix + "0")) return failed(j, prober.error()).str();
  std::atomic<bool> stop{false};
  const double cpu0 = cpu_seconds();
  prober.run(o.samples, std::chrono::microseconds(o.gap_us), stop);
  j.raw("recommend", latency_json(prober.rtt_ms())).number("generator_cpu_s", cpu_seconds() - cpu0);
  if (!prober.error().empty()) j.text("error", prober.error());
  return j.str();
}

}  // namespace
}  // namespace loadgen

int main(int argc, char** argv) {
  using namespace loadgen;
  try {
    options o = parse(argc, argv);
    std::optional<tls_client_context> tls;
    std::optional<salted_password_cache> passwords;
    if (o.t.tls != tls_mode::none) o.t.tls_ctx = tls.emplace(o.tls_ca).get();
    if (!o.t.user_pattern.empty()) o.t.passwords = &passwords.emplace(o.t.password);
    std::string out;
    if (o.scenario == "ingest")
      out = run_ingest(o);
    else if (o.scenario == "logins")
      out = run_logins(o);
    else if (o.scenario == "idle")
      out = run_idle(o);
    else if (o.scenario == "recommend")
      out = run_recommend(o);
    else if (o.scenario == "resume")
      out = run_resume(o);
    else
      throw std::invalid_argument(usage());
    std::cout << out << std::endl;
    return out.find("\"error\"") == std::string::npos ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "iotxmpp_loadgen: " << e.what() << '\n';
    return 2;
  }
}
