// iotxmpp serve: the XMPP server (PROTOCOL.md).

#include <CLI/CLI.hpp>

#include <memory>

#include "cli/command.hpp"
#include "cli/db_option.hpp"
#include "cli/duration_option.hpp"
#include "cli/exit_codes.hpp"
#include "cli/log_options.hpp"
#include "core/base/log.hpp"
#include "core/iot/rules.hpp"
#include "core/server/server.hpp"

namespace iotxmpp::cli {
namespace {

struct serve_flags {
  std::vector<std::string> listen{"[::]:5222"};
  std::string domain = "iot.local";
  unsigned threads = 0;
  std::string rules_file;
  std::string stale_after = "5m";
  std::string reap_every = "30s";
  std::string idle_timeout = "5m";
  std::string negotiation_timeout = "10s";
  std::size_t max_stanza_bytes = 64 * 1024;
  std::size_t max_depth = 32;
  std::size_t max_negotiating = 100;
  std::size_t queue = 50000;
  std::string tls_cert, tls_key;
  std::vector<std::string> listen_tls;
  bool tls_optional = false;
  std::string anonymous = "yes";
  bool plain_in_clear = false;
  rate_policy rates;
  std::string rate_grace = "30s";
  std::string resume_window = "5m";
  std::vector<std::string> listen_proxy, listen_tls_proxy, trusted_proxies;
  std::string node_id;
  bool listen_given = false;  // --listen came from somewhere (flag, environment, file)
  std::string metrics;        // HOST:PORT of GET /metrics; empty: none
};

int run_serve(const serve_flags& f, const std::string& db_url, const log_flags& logging) {
  apply(logging);
  server_options o;
  o.handle_signals = true;
  o.store_url = db_url;
  auto& c = o.config;
  // Behind a load balancer the PROXY listeners usually take the standard
  // ports: the plain defaults ([::]:5222, and [::]:5223 with a certificate)
  // then stay closed unless --listen / --listen-tls ask for them.
  const bool proxied = !f.listen_proxy.empty() || !f.listen_tls_proxy.empty();
  if (!proxied || f.listen_given)
    c.listen = f.listen;
  else
    c.listen.clear();
  c.listen_proxy = f.listen_proxy;
  c.listen_tls_proxy = f.listen_tls_proxy;
  c.trusted_proxies = f.trusted_proxies;
  c.node_id = f.node_id;
  c.domain = f.domain;
  c.threads = f.threads;
  c.limits.max_stanza_bytes = f.max_stanza_bytes;
  c.limits.max_depth = f.max_depth;
  c.max_negotiating_per_address = f.max_negotiating;
  o.writer.queue_capacity = f.queue;
  c.tls_cert = f.tls_cert;
  c.tls_key = f.tls_key;
  c.listen_tls = f.listen_tls;
  // XEP-0368's port once a certificate is there, unless told otherwise.
  if (c.listen_tls.empty() && !c.tls_cert.empty() && !proxied) c.listen_tls = {"[::]:5223"};
  c.tls_optional = f.tls_optional;
  c.anonymous = f.anonymous == "yes";
  c.plain_in_clear = f.plain_in_clear;
  c.rates = f.rates;
  c.metrics = f.metrics;
  c.resume_window =
      std::chrono::duration_cast<std::chrono::milliseconds>(duration_value(f.resume_window));
  c.rates.grace =
      std::chrono::duration_cast<std::chrono::milliseconds>(duration_value(f.rate_grace));
  for (auto [text, out] :
       {std::pair{&f.stale_after, &c.stale_after}, std::pair{&f.reap_every, &c.reap_every},
        std::pair{&f.idle_timeout, &c.idle_timeout},
        std::pair{&f.negotiation_timeout, &c.negotiation_timeout}})
    *out = std::chrono::duration_cast<std::chrono::milliseconds>(duration_value(*text));
  // Touch well inside the stale window so no reaper takes a live device.
  c.touch_every = std::min(std::chrono::milliseconds(30'000), c.stale_after / 3);
  if (!f.rules_file.empty()) {
    auto r = rules::from_file(f.rules_file);
    if (!r) return report(r.error());
    o.recommendation_rules = std::move(*r);
  }
  auto s = server::start(std::move(o));
  if (!s) return report(s.error());
  (*s)->wait();
  return exit_ok;
}

}  // namespace

runner setup_serve(CLI::App& sub) {
  auto f = std::make_shared<serve_flags>();
  auto db = std::make_shared<std::string>(default_db_url);
  add_db_option(sub, *db);
  auto logging = add_log_options(sub);
  sub.description(
      "Run the XMPP server: devices connect, report room status (stored in the database)\n"
      "and ask for recommendations. SIGINT/SIGTERM stop it gracefully (everything accepted\n"
      "is committed, exit 0); a second signal exits at once.");
  auto* listen = sub.add_option("-l,--listen", f->listen,
                                "Address to listen on, HOST:PORT or [IPV6]:PORT (repeatable;\n"
                                "no default when a --listen-proxy or --listen-tls-proxy is given)")
                     ->capture_default_str()
                     ->envname("IOTXMPP_LISTEN");
  sub.add_option("--domain", f->domain, "The server's XMPP domain")
      ->capture_default_str()
      ->envname("IOTXMPP_DOMAIN");
  sub.add_option("--threads", f->threads,
                 "I/O threads (0: one per core, less one for the store writer)")
      ->capture_default_str();
  sub.add_option("--rules", f->rules_file,
                 "Recommendation rules file (JSON) replacing the defaults")
      ->check(CLI::ExistingFile);
  add_duration_option(sub, "--stale-after", f->stale_after,
                      "Reap devices with no update for this long (s/m/h)", zero_duration::refused);
  add_duration_option(sub, "--reap-every", f->reap_every, "How often the reaper runs",
                      zero_duration::refused);
  add_duration_option(sub, "--idle-timeout", f->idle_timeout,
                      "Close sessions that send nothing for this long", zero_duration::refused);
  add_duration_option(sub, "--negotiation-timeout", f->negotiation_timeout,
                      "Close connections not bound within this time", zero_duration::refused);
  sub.add_option("--max-stanza-bytes", f->max_stanza_bytes, "Largest top-level element accepted")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{256}, std::size_t{16} << 20));
  sub.add_option("--max-depth", f->max_depth, "Deepest element nesting accepted (stanza = 1)")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{2}, std::size_t{1000}));
  sub.add_option("--max-negotiating", f->max_negotiating,
                 "Connections per source address still negotiating")
      ->capture_default_str();
  sub.add_option("--queue", f->queue, "Store writer queue capacity (items) before back-pressure")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  sub.add_option("--tls-cert", f->tls_cert,
                 "TLS certificate chain (PEM, leaf first); turns on STARTTLS (required) and the\n"
                 "direct-TLS listener. SIGHUP reloads it and the key")
      ->envname("IOTXMPP_TLS_CERT");
  sub.add_option("--tls-key", f->tls_key, "Private key of --tls-cert (PEM)")
      ->envname("IOTXMPP_TLS_KEY");
  sub.add_option("--listen-tls", f->listen_tls,
                 "Direct-TLS (XEP-0368) address, HOST:PORT (repeatable; default [::]:5223 with\n"
                 "--tls-cert)");
  sub.add_option("--listen-proxy", f->listen_proxy,
                 "Address, HOST:PORT, whose connections start with a PROXY protocol header\n"
                 "(v1 or v2, from a load balancer such as HAProxy), then XMPP as on --listen\n"
                 "(repeatable; needs --trusted-proxy)");
  sub.add_option("--listen-tls-proxy", f->listen_tls_proxy,
                 "Direct-TLS address, HOST:PORT, whose connections start with a PROXY header\n"
                 "before the TLS handshake (repeatable; needs --trusted-proxy and --tls-cert)");
  sub.add_option("--trusted-proxy", f->trusted_proxies,
                 "Load balancer allowed on the PROXY listeners, as a CIDR (10.0.0.0/8,\n"
                 "2001:db8::/32) or one address (repeatable); any other source is closed")
      ->type_name("CIDR");
  sub.add_option("--node-id", f->node_id,
                 "This node's name among several serving one database (default: the host name)");
  sub.add_flag("--tls-optional", f->tls_optional,
               "Offer STARTTLS but do not require it (labs only)");
  sub.add_option("--anonymous", f->anonymous,
                 "Offer SASL ANONYMOUS (PORT@IP devices, any room): yes or no")
      ->capture_default_str()
      ->check(CLI::IsMember({"yes", "no"}));
  sub.add_flag("--allow-plaintext-auth", f->plain_in_clear,
               "Offer SASL PLAIN without TLS (labs only: the password crosses in clear)");
  sub.add_option("--max-stanza-rate", f->rates.stanzas_per_second,
                 "Stanzas per second one session may send; beyond it reading slows down (0: no "
                 "limit)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  sub.add_option("--max-byte-rate", f->rates.bytes_per_second,
                 "Bytes per second one session may send; beyond it reading slows down (0: no "
                 "limit)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  sub.add_option("--rate-burst", f->rates.burst_seconds,
                 "Seconds' worth of each rate a quiet session may send at once")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 3600.0));
  add_duration_option(sub, "--resume-window", f->resume_window,
                      "How long a lost XEP-0198 stream waits for <resume/> (0: no resumption)",
                      zero_duration::allowed);
  add_duration_option(sub, "--rate-grace", f->rate_grace,
                      "Close (policy-violation) a session slowed down this long without a break",
                      zero_duration::refused);
  sub.add_option("--max-connect-rate", f->rates.connections_per_second,
                 "New connections per second from one source address, with --rate-burst\n"
                 "(loopback is not limited; 0: no limit)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  sub.add_option("--metrics", f->metrics,
                 "Serve Prometheus metrics at http://HOST:PORT/metrics (off by default)");
  return [f, db, logging, listen] {
    f->listen_given = listen->count() > 0;
    return run_serve(*f, *db, *logging);
  };
}

}  // namespace iotxmpp::cli
