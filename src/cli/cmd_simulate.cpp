// iotxmpp simulate: a fleet of room devices against a server (load generator
// and demo). Core does the work (core/simulator.hpp); this file reads the
// flags, draws the progress line and prints the summary.

#include <CLI/CLI.hpp>

#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "cli/client_options.hpp"
#include "cli/command.hpp"
#include "cli/duration_option.hpp"
#include "cli/exit_codes.hpp"
#include "cli/json_output.hpp"
#include "core/client/simulator.hpp"

namespace iotxmpp::cli {
namespace {

struct simulate_flags {
  std::size_t count = 10;
  unsigned threads = 0;
  double ramp = 200;
  std::string interval = "10s";
  std::string jitter;  // empty: a tenth of the interval
  std::string query_every = "1m";
  std::string duration;
  std::uint64_t reports = 0;
  std::size_t window = 64;
  std::string drain_timeout = "30s";
  std::uint64_t seed = 1;
  std::string user_pattern;  // device n logs in as this with {n} replaced
};

std::string milliseconds_text(std::optional<double> ms) {
  if (!ms) return "-";
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, *ms < 10 ? "%.2f ms" : "%.1f ms", *ms);
  return buffer;
}

// The live line: what is happening now, with the rate over the last second.
// While the server or its database is away (devices reconnecting, or pings
// unanswered past the timeout) it shows what waits for acknowledgement
// instead of the errors: that is waiting, not failing.
void draw_progress(const simulator_stats& s, double rate) {
  std::string tail;
  char buffer[160];
  if (s.reconnecting > 0 || s.waiting_for_acks > 0) {
    std::snprintf(buffer, sizeof buffer, "waiting for acks: %" PRIu64 "  reconnecting %zu",
                  s.reports_unacknowledged, s.reconnecting);
  } else {
    std::snprintf(buffer, sizeof buffer, "errors %" PRIu64, s.errors);
  }
  std::fprintf(stderr,
               "\r\033[Ksimulate %5.0fs  connected %zu/%zu  sent %" PRIu64 "  stored %" PRIu64
               "  %.0f/s  rtt p50 %s p99 %s  %s",
               s.elapsed_seconds, s.connected, s.devices, s.reports_sent, s.reports_acknowledged,
               rate, milliseconds_text(s.rtt_p50_ms).c_str(),
               milliseconds_text(s.rtt_p99_ms).c_str(), buffer);
  std::fflush(stderr);
}

double stored_per_second(const simulator_stats& s) {
  return s.elapsed_seconds > 0 ? static_cast<double>(s.reports_acknowledged) / s.elapsed_seconds
                               : 0;
}

void print_summary_json(const simulator_stats& s, const std::string& run_id) {
  auto ms = [](std::optional<double> v) { return v ? json_value(*v) : json_value(); };
  json_value j{
      {"run_id", run_id},
      {"devices", s.devices},
      {"failed", s.failed},
      {"peak_connected", s.peak_connected},
      {"reports",
       {{"sent", s.reports_sent},
        {"acknowledged", s.reports_acknowledged},
        {"rejected", s.reports_rejected},
        {"resent", s.reports_resent},
        {"lost", s.reports_lost}}},
      {"connections",
       {{"disconnects", s.disconnects},
        {"reconnects", s.reconnects},
        {"resumed", s.resumes},
        {"first_disconnect",
         s.first_disconnect.empty() ? json_value() : json_value(s.first_disconnect)}}},
      {"ack_timeouts", s.ack_timeouts},
      {"reports_per_second", stored_per_second(s)},
      {"recommendations",
       {{"asked", s.queries_sent},
        {"answered", s.queries_answered},
        {"rtt_ms", {{"p50", ms(s.rtt_p50_ms)}, {"p99", ms(s.rtt_p99_ms)}}}}},
      {"errors", s.errors},
      {"first_error", s.first_error.empty() ? json_value() : json_value(s.first_error)},
      {"elapsed_seconds", s.elapsed_seconds},
  };
  print_json(j);
}

void print_text(const simulator_stats& s, const std::string& run_id) {
  std::printf("devices          %zu (%zu failed, at most %zu connected at once)\n", s.devices,
              s.failed, s.peak_connected);
  std::printf("reports          %" PRIu64 " sent, %" PRIu64 " stored, %" PRIu64 " refused\n",
              s.reports_sent, s.reports_acknowledged, s.reports_rejected);
  std::printf("delivery         %" PRIu64 " resent, %" PRIu64 " lost, %" PRIu64
              " acknowledgements late\n",
              s.reports_resent, s.reports_lost, s.ack_timeouts);
  std::printf("connections      %" PRIu64 " lost, %" PRIu64 " made again (%" PRIu64
              " resumed)%s%s\n",
              s.disconnects, s.reconnects, s.resumes,
              s.first_disconnect.empty() ? "" : ", first: ", s.first_disconnect.c_str());
  std::printf("rate             %.1f reports/s stored\n", stored_per_second(s));
  std::printf("recommendations  %" PRIu64 " asked, %" PRIu64
              " answered, round trip p50 %s, p99 %s\n",
              s.queries_sent, s.queries_answered, milliseconds_text(s.rtt_p50_ms).c_str(),
              milliseconds_text(s.rtt_p99_ms).c_str());
  std::printf("errors           %" PRIu64 "%s%s\n", s.errors,
              s.first_error.empty() ? "" : ", first: ", s.first_error.c_str());
  std::printf("elapsed          %.1f s\n", s.elapsed_seconds);
  std::printf("run id           %s\n", run_id.c_str());
}

int run_simulate(const simulate_flags& f, client_flags cf) {
  if (!f.user_pattern.empty()) {
    if (!cf.user.empty())
      return report(error{error_kind::usage, "--user-pattern: give it or --user, not both", {}});
    if (f.user_pattern.find("{n}") == std::string::npos)
      return report(error{error_kind::usage, "--user-pattern: must contain {n}", {}});
    cf.user = f.user_pattern;  // for the password checks; each device fills in {n}
  }
  auto client = to_client_options(cf);
  if (!client) return report(client.error());
  auto timeout = timeout_of(cf);
  if (!timeout) return report(timeout.error());

  simulator_options o;
  o.client = std::move(*client);
  o.user_pattern = f.user_pattern;
  o.reply_timeout = *timeout;
  o.count = f.count;
  o.threads = f.threads;
  o.ramp = f.ramp;
  o.reports = f.reports;
  o.window = f.window;
  o.seed = f.seed;
  o.handle_signals = true;
  o.interval = duration_value(f.interval);
  o.jitter = duration_value(f.jitter);
  o.query_every = duration_value(f.query_every);
  o.duration = duration_value(f.duration);
  o.drain_timeout =
      std::chrono::duration_cast<std::chrono::milliseconds>(duration_value(f.drain_timeout));
  if (f.jitter.empty()) o.jitter = o.interval / 10;
  if (o.interval.count() > 0 && o.jitter > o.interval / 2)
    return report(error{error_kind::usage, "--jitter: at most half of --interval", {}});

  auto sim = simulator::start(std::move(o));
  if (!sim) return report(sim.error());

  bool live = isatty(STDERR_FILENO) == 1;
  std::uint64_t last_stored = 0;
  double last_elapsed = 0;
  while (!(*sim)->wait_for(std::chrono::seconds(1))) {
    if (!live) continue;
    simulator_stats s = (*sim)->stats();
    double span = s.elapsed_seconds - last_elapsed;
    double rate = span > 0 ? static_cast<double>(s.reports_acknowledged - last_stored) / span : 0;
    last_stored = s.reports_acknowledged;
    last_elapsed = s.elapsed_seconds;
    draw_progress(s, rate);
  }
  if (live) std::fputs("\r\033[K", stderr);

  simulator_stats s = (*sim)->stats();
  if (cf.json) {
    print_summary_json(s, (*sim)->run_id());
  } else {
    print_text(s, (*sim)->run_id());
  }
  std::fflush(stdout);
  if (s.failed == s.devices && s.reports_sent == 0) {
    std::fprintf(stderr, "iotxmpp: no device could run: %s\n", s.first_error.c_str());
    return exit_connect;
  }
  if (s.reports_lost > 0)
    std::fprintf(stderr, "iotxmpp: %" PRIu64 " of %" PRIu64 " reports lost (never acknowledged)\n",
                 s.reports_lost, s.reports_sent);
  if (s.failed > 0)
    std::fprintf(stderr, "iotxmpp: %zu of %zu devices failed; first: %s\n", s.failed, s.devices,
                 s.first_error.c_str());
  return s.reports_lost == 0 && s.failed == 0 ? exit_ok : exit_failure;
}

}  // namespace

runner setup_simulate(CLI::App& sub) {
  auto f = std::make_shared<simulate_flags>();
  auto cf = add_client_options(sub, "Connect timeout and reply timeout for pings and queries");
  sub.description(
      "Simulate room devices: each connects, reports its room (temperature, humidity,\n"
      "brightness along a day in its own time zone) every --interval, asks for a\n"
      "recommendation every --query-every and steers its room towards it.\n"
      "--interval 0 sends as fast as the server stores (measures ingest).\n"
      "Devices keep each report until a ping after it is answered (stored), and\n"
      "after a lost connection reconnect with back-off and resend what is unacknowledged.\n"
      "Ends after --duration or --reports, or on SIGINT/SIGTERM, with a summary.\n"
      "Exit code 1 when a report was lost or devices failed, 3 when none could\n"
      "connect (a refused login included).");
  sub.add_option("-c,--count", f->count, "Number of devices (rooms room-0001...)")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::size_t{1'000'000}));
  sub.add_option("--threads", f->threads, "I/O threads (0: one per core)")->capture_default_str();
  sub.add_option("--ramp", f->ramp, "New connections per second (0: all at once)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  add_duration_option(sub, "--interval", f->interval,
                      "Time between a device's reports (0: as fast as stored)",
                      zero_duration::allowed);
  add_duration_option(sub, "--jitter", f->jitter,
                      "Random spread (±) of each interval, at most half of it (0: none;\n"
                      "default: a tenth)",
                      zero_duration::allowed);
  add_duration_option(sub, "--query-every", f->query_every,
                      "Time between a device's recommendation queries (0: never)",
                      zero_duration::allowed);
  add_duration_option(sub, "--duration", f->duration,
                      "End the run after this long (0: until stopped; e.g. 20s, 5m)",
                      zero_duration::allowed);
  sub.add_option("--reports", f->reports, "End the run after this many reports in all")
      ->check(CLI::PositiveNumber);
  sub.add_option("--window", f->window,
                 "Unacknowledged reports a device holds (a full one waits); with\n"
                 "--interval 0 also how many it keeps in flight")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::size_t{256}));
  add_duration_option(sub, "--drain-timeout", f->drain_timeout,
                      "At the end, how long to wait for outstanding acknowledgements\n"
                      "(reconnecting if need be); what is left then is lost",
                      zero_duration::allowed);
  sub.add_option("--seed", f->seed, "Seed of the rooms' character and noise")
      ->capture_default_str();
  sub.add_option("--user-pattern", f->user_pattern,
                 "Device n logs in as this account, {n} its number as in its room\n"
                 "(dev{n}: dev0001 for room-0001), with the --password-file password");
  return [f, cf] { return run_simulate(*f, *cf); };
}

}  // namespace iotxmpp::cli
