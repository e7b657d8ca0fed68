#pragma once
// Logins driven through the event loop (XMPP: optional TLS, direct or
// STARTTLS; SASL ANONYMOUS or SCRAM-SHA-256; bind. MQTT: optional TLS,
// CONNECT with or without a username), the blocking recommend prober, and
// small measuring helpers.

#include <atomic>
#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "loadgen_net.hpp"
#include "loadgen_scram.hpp"

namespace loadgen {

enum class protocol { xmpp, mqtt };
// direct: TLS from the first byte (XMPP XEP-0368, MQTT's TLS listener);
// starttls: XMPP only, after the first stream's features.
enum class tls_mode { none, direct, starttls };

struct target {
  endpoint to;
  // More than one: connection i logs in to ports[i % n] on to.host (one
  // generator, one clock, over several servers); empty: to.port only.
  std::vector<unsigned short> ports;
  protocol proto = protocol::xmpp;
  std::string domain = "iot.local";
  std::vector<std::string> sources;  // source addresses, used round-robin by slot
  tls_mode tls = tls_mode::none;
  ssl_ctx_st* tls_ctx = nullptr;  // set when tls is not none
  // Accounts: connection i logs in as user_pattern with "{n}" replaced by i
  // (XMPP SCRAM-SHA-256; MQTT username and password). Empty: XMPP SASL
  // ANONYMOUS, MQTT without username.
  std::string user_pattern;
  std::string password;
  salted_password_cache* passwords = nullptr;  // SCRAM; set with user_pattern
  std::string user(std::size_t i) const;
};

struct login_outcome {
  double seconds = 0;                  // first connect to last bound
  steady::time_point first{}, last{};  // the first connect, the last bound
  std::vector<double> latency_ms;      // per login, connect to bound
  std::size_t bound = 0;
  std::size_t refused = 0;  // by the login_ending (e.g. XEP-0198 <failed/>)
};

// What an XMPP login sends in place of bind, and how it ends: XEP-0198
// <resume/> (bench scenario `resume`). `request` gives the bytes for
// connection i; `outcome` reads what has arrived since: 0 incomplete, 1 done
// (counted as bound, the answer left in `in`), -1 refused (counted in
// login_outcome::refused, the answer left in `in`, the connection left open
// and the next login started: a refusal is a result, not a failure).
struct login_ending {
  std::function<std::string(std::size_t)> request;
  std::function<int(const std::string&)> outcome;
};

// Logs in every connection in `conns` (XMPP: [TLS,] stream, [STARTTLS, TLS,
// stream,] SASL, stream restart, bind, or `ending` in its place; the bound
// JID is left in `in`; MQTT: [TLS,] CONNECT, CONNACK), at most `inflight` at
// once. Each connection ends with `on_read` watching for stream errors.
// Stops at the deadline or on the first failure.
login_outcome login_all(event_loop& loop, std::deque<connection>& conns, const target& t,
                        std::size_t inflight, steady::time_point deadline,
                        const login_ending* ending = nullptr);

// Round trips of one recommend IQ at a time over its own blocking connection
// (its own thread), so its latency is not the event loop's.
class recommend_prober {
 public:
  // Connects and logs in; false with error() on failure.
  bool start(const target& t, std::string room);
  // Sends one IQ at a time, `gap` apart, until `samples` are taken or `stop`
  // is set; keeps each round trip in milliseconds.
  void run(std::size_t samples, std::chrono::microseconds gap, const std::atomic<bool>& stop);
  const std::vector<double>& rtt_ms() const { return rtt_ms_; }
  const std::string& error() const { return error_; }
  ~recommend_prober();

 private:
  int fd_ = -1;
  target t_;
  std::string room_;
  std::vector<double> rtt_ms_;
  std::string error_;
};

double percentile(std::vector<double> v, double p);  // p in [0, 100]; 0 when empty
double cpu_seconds();                                // this process, user + system
long rss_kib(long pid);                              // VmRSS of /proc/PID/status; -1 if unknown
double process_cpu_seconds(long pid);  // user + system of /proc/PID/stat; -1 if unknown

// A flat JSON object, written as it is filled.
class json_object {
 public:
  json_object& number(std::string_view key, double v);
  json_object& integer(std::string_view key, long long v);
  json_object& text(std::string_view key, std::string_view v);
  json_object& raw(std::string_view key, std::string_view json);
  std::string str() const { return "{" + body_ + "}"; }

 private:
  void key(std::string_view k);
  std::string body_;
};

// {"n":..,"p50_ms":..,"p99_ms":..,"max_ms":..,"mean_ms":..}
std::string latency_json(const std::vector<double>& ms);

}  // namespace loadgen
