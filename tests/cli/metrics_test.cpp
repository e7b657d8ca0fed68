// `serve --metrics`: the HTTP side (only GET /metrics, bounded requests, no
// thread per connection), `promtool check metrics` on a real scrape, the
// real Prometheus scraping a `serve` process and seeing its traffic through
// its query API, and the example scrape config and alert rules checked (and
// the alerts unit-tested) by promtool. Prometheus and promtool come from the
// Debian package `prometheus`; without them these tests fail, they do not
// skip.

#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "support/child_process.hpp"
#include "support/process.hpp"
#include "support/test_pki.hpp"
#include "wire/wire_fixture.hpp"

extern char** environ;

namespace iotxmpp::test {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;
namespace fs = std::filesystem;

const std::string examples = IOTXMPP_SOURCE_DIR "/examples/";

struct http_answer {
  int status = 0;
  std::string head;  // status line and headers
  std::string body;
  bool closed = false;  // the server closed the connection
};

http_answer parse_answer(const std::string& raw, bool closed) {
  http_answer a;
  a.closed = closed;
  auto end = raw.find("\r\n\r\n");
  a.head = raw.substr(0, end);
  if (end != std::string::npos) a.body = raw.substr(end + 4);
  if (raw.starts_with("HTTP/1.")) a.status = std::atoi(raw.c_str() + 9);
  return a;
}

// Sends `request` as it is on a new connection and reads to the close.
http_answer http_exchange(unsigned short port, const std::string& request,
                          std::chrono::milliseconds timeout = 10s) {
  raw_client c("127.0.0.1", port);
  c.send(request);
  std::string raw = c.read_to_close(timeout);
  return parse_answer(raw, c.closed());
}

http_answer get(unsigned short port, const std::string& target) {
  return http_exchange(
      port, "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
}

std::string header_of(const http_answer& a, std::string name) {
  std::string head = a.head;
  for (auto& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto at = head.find("\r\n" + name + ":");
  if (at == std::string::npos) return {};
  at += name.size() + 3;
  auto end = head.find("\r\n", at);
  std::string v = a.head.substr(at, end == std::string::npos ? std::string::npos : end - at);
  v.erase(0, v.find_first_not_of(' '));
  return v;
}

int threads_of_this_process() {
  int n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator("/proc/self/task")) ++n;
  return n;
}

test_server metrics_server() {
  return test_server([](server_options& o) { o.config.metrics = "127.0.0.1:0"; });
}

// A device on `port` that reports `reports` times for `room` and waits for
// the commit (ping), then stays connected.
std::unique_ptr<raw_client> reporting_device(unsigned short port, const std::string& resource,
                                             int reports, const std::string& room = "kitchen") {
  auto c = std::make_unique<raw_client>("127.0.0.1", port);
  c->negotiate(resource);
  for (int i = 0; i < reports; ++i) c->send(report(resource + "-" + std::to_string(i), room));
  EXPECT_TRUE(sync(*c));
  return c;
}

TEST(ServeMetrics, HttpServesGetMetricsOnlyAnd404Or405Otherwise) {
  auto server = metrics_server();
  const auto port = server.get().metrics_endpoint().second;
  ASSERT_NE(port, 0);

  auto ok = get(port, "/metrics");
  EXPECT_EQ(ok.status, 200) << ok.head;
  EXPECT_EQ(header_of(ok, "Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(ok.body.find("# TYPE iotxmpp_reports_accepted_total counter\n"), std::string::npos)
      << ok.body;
  EXPECT_EQ(header_of(ok, "Content-Length"), std::to_string(ok.body.size()));
  EXPECT_EQ(get(port, "/metrics?name[]=x").status, 200) << "a query string is ignored";

  for (std::string target : {"/", "/metrics/", "/metricsx", "/favicon.ico"}) {
    auto a = get(port, target);
    EXPECT_EQ(a.status, 404) << target << "\n" << a.head;
  }
  for (std::string method : {"POST", "PUT", "DELETE", "HEAD", "OPTIONS"}) {
    auto a = http_exchange(port, method +
                                     " /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
                                     "Connection: close\r\n\r\nhi");
    EXPECT_EQ(a.status, 405) << method << "\n" << a.head;
    EXPECT_EQ(header_of(a, "Allow"), "GET") << method;
  }
  // Another path with another method is still unknown.
  EXPECT_EQ(
      http_exchange(port, "POST /push HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").status,
      404);
  EXPECT_EQ(http_exchange(port, "HELLO\r\n\r\n").status, 400);
}

TEST(ServeMetrics, HttpKeepsTheConnectionAliveForTheNextScrape) {
  auto server = metrics_server();
  raw_client c("127.0.0.1", server.get().metrics_endpoint().second);
  for (int i = 0; i < 3; ++i) {
    c.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    http_answer a = parse_answer(c.read_until("\r\n\r\n"), false);
    ASSERT_EQ(a.status, 200) << i << ": " << a.head;
    const std::size_t length = std::stoul(header_of(a, "Content-Length"));
    std::string body;
    for (auto deadline = std::chrono::steady_clock::now() + 10s;
         body.size() < length && std::chrono::steady_clock::now() < deadline;)
      body += c.read_some(100ms);
    ASSERT_EQ(body.size(), length) << i;
    EXPECT_TRUE(body.ends_with("\n")) << i;
  }
  EXPECT_FALSE(c.closed());
}

TEST(ServeMetrics, HttpRequestsAreBounded) {
  auto server = metrics_server();
  const auto port = server.get().metrics_endpoint().second;
  // A header past 8 KiB: 431, and closed.
  auto big = http_exchange(port, "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Fill: " +
                                     std::string(20 * 1024, 'a') + "\r\n\r\n");
  EXPECT_EQ(big.status, 431) << big.head;
  EXPECT_TRUE(big.closed);
  // A body past 4 KiB: 413, and closed.
  auto body =
      http_exchange(port, "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 10000\r\n\r\n" +
                              std::string(10000, 'b'));
  EXPECT_EQ(body.status, 413) << body.head;
  EXPECT_TRUE(body.closed);
  EXPECT_EQ(get(port, "/metrics").status, 200) << "still serving";
}

TEST(ServeMetrics, HttpRunsNoThreadPerConnectionAndCapsThem) {
  auto server = metrics_server();
  const auto port = server.get().metrics_endpoint().second;
  ASSERT_EQ(get(port, "/metrics").status, 200);
  const int threads = threads_of_this_process();
  // 32 connections that have sent half a request.
  std::vector<std::unique_ptr<raw_client>> idle;
  for (int i = 0; i < 32; ++i) {
    idle.push_back(std::make_unique<raw_client>("127.0.0.1", port));
    idle.back()->send("GET /metr");
  }
  // The 33rd is closed at accept, with no answer.
  raw_client extra("127.0.0.1", port);
  EXPECT_EQ(extra.read_to_close(5s), "");
  EXPECT_TRUE(extra.closed());
  EXPECT_EQ(threads_of_this_process(), threads) << "a thread per connection?";
  // They finish their requests and are answered.
  for (auto& c : idle) c->send("ics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  for (auto& c : idle) {
    auto a = parse_answer(c->read_to_close(10s), c->closed());
    EXPECT_EQ(a.status, 200);
  }
  idle.clear();
  // Their slots are free again once their coroutines end.
  http_answer again;
  for (auto deadline = std::chrono::steady_clock::now() + 10s;
       std::chrono::steady_clock::now() < deadline;) {
    again = get(port, "/metrics");
    if (again.status == 200) break;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(again.status, 200);
}

// The metric families the METRICS section of man iotxmpp-serve lists.
std::set<std::string> documented_families() {
  std::ifstream in(IOTXMPP_SOURCE_DIR "/man/iotxmpp-serve.1");
  std::set<std::string> names;
  bool inside = false;
  static const std::regex name(R"(^\.B (iotxmpp_[a-z_]+))");
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with(".SH")) inside = line == ".SH METRICS";
    std::smatch m;
    if (inside && std::regex_search(line, m, name)) names.insert(m[1]);
  }
  return names;
}

// The families of a scrape (its # TYPE lines).
std::set<std::string> families_in(const std::string& scrape) {
  std::set<std::string> names;
  static const std::regex type(R"(# TYPE (\S+) )");
  for (std::sregex_iterator it(scrape.begin(), scrape.end(), type), end; it != end; ++it)
    names.insert((*it)[1]);
  return names;
}

// The value of the sample line `series` (name and labels as rendered) in a
// scrape; -1 when absent.
double sample(const std::string& scrape, const std::string& series) {
  auto at = scrape.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(scrape.substr(at + series.size() + 2));
}

TEST(ServeMetrics, PromtoolFindsARealScrapeClean) {
  auto server = metrics_server();
  const auto port = server.get().metrics_endpoint().second;
  // Counters are per process: compare with a scrape before the traffic.
  const std::string before = get(port, "/metrics").body;
  {
    auto device = reporting_device(server.port(), "thermo", 3);
    device->send(report("bad", ""));  // empty nodeId: refused as malformed
    device->send(
        "<iq type='get' id='r1' to='iot.local'><recommend xmlns='urn:iotxmpp:recommend:0' "
        "room='kitchen'/></iq>");
    device->read_until("id='r1'");
    device->send("<presence/>");
    device->send("<feed-me/>");  // unsupported-stanza-type: a stream error
    device->read_to_close(5s);
  }
  auto scrape = get(port, "/metrics");
  ASSERT_EQ(scrape.status, 200);
  // Every family is documented, and every documented one is there.
  const auto documented = documented_families();
  EXPECT_GE(documented.size(), 20u);
  EXPECT_EQ(families_in(scrape.body), documented);
  for (const auto& name : documented)
    EXPECT_NE(scrape.body.find("# HELP " + name + " "), std::string::npos) << name;
  auto grew = [&](const std::string& series) {
    return sample(scrape.body, series) - sample(before, series);
  };
  EXPECT_EQ(grew("iotxmpp_stream_errors_total{condition=\"unsupported-stanza-type\"}"), 1);
  EXPECT_EQ(grew("iotxmpp_reports_refused_total{reason=\"malformed\"}"), 1);
  EXPECT_EQ(grew("iotxmpp_reports_accepted_total"), 3);
  EXPECT_EQ(grew("iotxmpp_recommend_seconds_count"), 1);
  EXPECT_EQ(grew("iotxmpp_stanzas_received_total{kind=\"presence\"}"), 1);
  EXPECT_EQ(grew("iotxmpp_stanzas_received_total{kind=\"other\"}"), 1);
  EXPECT_EQ(sample(scrape.body, "iotxmpp_build_info{version=\"" IOTXMPP_VERSION "\"}"), 1);
  auto checked = run_process({"promtool", "check", "metrics"}, scrape.body, 30s);
  EXPECT_EQ(checked.exit_code, 0) << "promtool (Debian package prometheus) missing or unhappy:\n"
                                  << checked.out << checked.err;
  EXPECT_EQ(checked.out + checked.err, "") << "lint findings";
}

// Polls the series' value in the server's own scrape until it is `want`
// (10 s at most); returns the last value.
double wait_sample(unsigned short metrics_port, const std::string& series, double want) {
  double seen = -1;
  for (auto deadline = std::chrono::steady_clock::now() + 10s;
       std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(20ms)) {
    seen = sample(get(metrics_port, "/metrics").body, series);
    if (seen == want) break;
  }
  return seen;
}

TEST(ServeMetrics, SessionGaugesFollowEachSessionsLife) {
  test_pki pki;
  test_server server([&](server_options& o) {
    o.config.metrics = "127.0.0.1:0";
    o.config.tls_cert = pki.server_cert();
    o.config.tls_key = pki.server_key();
    o.config.tls_optional = true;  // plain devices too
    o.config.resume_window = 1s;
  });
  add_device(server, "dev1", "s3cret-pw", {"kitchen"});
  const auto port = server.get().metrics_endpoint().second;
  const std::string negotiating = "iotxmpp_sessions{state=\"negotiating\"}",
                    bound = "iotxmpp_sessions{state=\"bound\"}",
                    detached = "iotxmpp_sessions{state=\"detached\"}",
                    plain_anonymous =
                        "iotxmpp_bound_sessions{transport=\"plain\",login=\"anonymous\"}",
                    tls_account = "iotxmpp_bound_sessions{transport=\"tls\",login=\"account\"}";
  // Gauges are per process: each is measured against its value before.
  const std::string before = get(port, "/metrics").body;
  auto at = [&](const std::string& series, double delta) {
    return wait_sample(port, series, sample(before, series) + delta) - sample(before, series);
  };

  auto half = std::make_unique<raw_client>("127.0.0.1", server.port());
  half->send(raw_client::header());
  half->read_until("</stream:features>");
  EXPECT_EQ(at(negotiating, 1), 1);

  auto plain = std::make_unique<raw_client>("127.0.0.1", server.port());
  plain->negotiate("p");
  EXPECT_EQ(at(bound, 1), 1);
  EXPECT_EQ(at(plain_anonymous, 1), 1);

  raw_client secure("127.0.0.1", server.port());
  secure.send(raw_client::header());
  secure.read_until("</stream:features>");
  secure.send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
  ASSERT_NE(secure.read_until("/>").find("<proceed"), std::string::npos);
  secure.start_tls({.ca_file = pki.ca_cert()});
  secure.send(raw_client::header());
  secure.read_until("</stream:features>");
  ASSERT_NE(secure.authenticate("SCRAM-SHA-256", "dev1", "s3cret-pw").find("<success"),
            std::string::npos);
  EXPECT_EQ(secure.bind_after_auth("s"), "dev1@iot.local/s");
  EXPECT_EQ(at(bound, 2), 2);
  EXPECT_EQ(at(tls_account, 1), 1);

  // A resumable stream whose connection drops is detached, still bound by
  // kind, until the resumption window is over.
  plain->send("<enable xmlns='urn:xmpp:sm:3' resume='true'/>");
  ASSERT_NE(plain->read_until("/>").find("<enabled"), std::string::npos);
  plain.reset();
  EXPECT_EQ(at(detached, 1), 1);
  EXPECT_EQ(at(bound, 1), 1);
  EXPECT_EQ(at(plain_anonymous, 1), 1);
  EXPECT_EQ(at(detached, 0), 0) << "the window is 1 s";
  EXPECT_EQ(at(plain_anonymous, 0), 0);

  secure.send("</stream:stream>");
  secure.read_to_close(5s);
  half.reset();
  for (const auto& series : {negotiating, bound, detached, plain_anonymous, tls_account})
    EXPECT_EQ(at(series, 0), 0) << series;
  EXPECT_EQ(at("iotxmpp_sessions{state=\"closing\"}", 0), 0);
}

TEST(ServeMetrics, TheReaperCountsWhatItRemoves) {
  test_server server([](server_options& o) {
    o.config.metrics = "127.0.0.1:0";
    o.config.stale_after = 1500ms;
    o.config.reap_every = 200ms;
    o.config.touch_every = 500ms;
  });
  const auto port = server.get().metrics_endpoint().second;
  const std::string reaped = "iotxmpp_reaped_devices_total",
                    timeout = "iotxmpp_stream_errors_total{condition=\"connection-timeout\"}";
  const std::string before = get(port, "/metrics").body;
  raw_client c("127.0.0.1", server.port());
  c.negotiate("quiet");
  c.send(report("r1"));
  ASSERT_TRUE(sync(c, "s1"));
  // Silent: its session ends as stale and the reaper removes its row.
  EXPECT_NE(c.read_to_close(5s).find("<connection-timeout"), std::string::npos);
  EXPECT_EQ(wait_sample(port, reaped, sample(before, reaped) + 1) - sample(before, reaped), 1);
  EXPECT_EQ(wait_sample(port, timeout, sample(before, timeout) + 1) - sample(before, timeout), 1);
}

// --- the real Prometheus -----------------------------------------------------

// A program other than iotxmpp, run in the background with its output in
// `log`; SIGTERM and a wait when it goes.
class background_program {
 public:
  background_program(const std::vector<std::string>& argv, const std::string& log) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    int rc = posix_spawnp(&pid_, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) pid_ = -1;
  }
  ~background_program() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    for (int i = 0; i < 100; ++i) {
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) return;
      std::this_thread::sleep_for(50ms);
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  bool started() const { return pid_ > 0; }
  bool running() const { return pid_ > 0 && waitpid(pid_, nullptr, WNOHANG) == 0; }

 private:
  pid_t pid_ = -1;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string url_encode(std::string_view text) {
  static const char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

// The value of a PromQL query that yields exactly one sample, through the
// query API; nullopt when it yields none (or several, or fails).
std::optional<double> query(unsigned short prometheus, const std::string& promql) {
  http_answer a;
  try {
    a = get(prometheus, "/api/v1/query?query=" + url_encode(promql));
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (a.status != 200) return std::nullopt;
  auto j = json::parse(a.body, nullptr, false);
  if (j.is_discarded() || j.value("status", "") != "success") return std::nullopt;
  const auto& result = j["data"]["result"];
  if (!result.is_array() || result.size() != 1) return std::nullopt;
  return std::stod(result[0]["value"][1].get<std::string>());
}

// Polls `promql` until it equals `want` (a scrape has seen it) or 30 s have
// passed; returns the last value seen.
std::optional<double> wait_for(unsigned short prometheus, const std::string& promql, double want) {
  std::optional<double> seen;
  for (auto deadline = std::chrono::steady_clock::now() + 30s;
       std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(200ms)) {
    seen = query(prometheus, promql);
    if (seen && *seen == want) break;
  }
  return seen;
}

bool wait_until_answers(unsigned short port, const std::string& target,
                        std::chrono::seconds within) {
  for (auto deadline = std::chrono::steady_clock::now() + within;
       std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(100ms)) {
    try {
      if (get(port, target).status == 200) return true;
    } catch (const std::exception&) {
    }
  }
  return false;
}

TEST(ServeMetrics, PrometheusScrapesServeAndSeesItsTraffic) {
  temp_dir dir;
  const auto xmpp = raw_client::free_port(), metrics = raw_client::free_port(),
             web = raw_client::free_port();
  child_process serve({"serve", "--db", "sqlite:" + dir.path() + "/s.db", "--listen",
                       "127.0.0.1:" + std::to_string(xmpp), "--metrics",
                       "127.0.0.1:" + std::to_string(metrics), "--log-level", "warn"});
  ASSERT_TRUE(wait_until_answers(metrics, "/metrics", 20s)) << serve.err();

  std::ofstream(dir.path() + "/prometheus.yml")
      << "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
         "scrape_configs:\n  - job_name: iotxmpp\n    static_configs:\n"
         "      - targets: ['127.0.0.1:"
      << metrics << "']\n";
  background_program prometheus(
      {"prometheus", "--config.file=" + dir.path() + "/prometheus.yml",
       "--storage.tsdb.path=" + dir.path() + "/data",
       "--web.listen-address=127.0.0.1:" + std::to_string(web), "--log.level=warn"},
      dir.path() + "/prometheus.log");
  ASSERT_TRUE(prometheus.started()) << "prometheus (Debian package prometheus) is not installed";
  ASSERT_TRUE(wait_until_answers(web, "/-/ready", 60s))
      << "prometheus did not start:\n"
      << read_file(dir.path() + "/prometheus.log");

  // Three devices report 5, 4 and 6 times; one report is malformed; one
  // device leaves with a stream error.
  std::vector<std::unique_ptr<raw_client>> devices;
  devices.push_back(reporting_device(xmpp, "a", 5, "kitchen"));
  devices.push_back(reporting_device(xmpp, "b", 4, "hall"));
  devices.push_back(reporting_device(xmpp, "c", 6, "attic"));
  devices[0]->send(report("bad", ""));
  devices[0]->read_until("</message>");
  devices[2]->send("<unknown/>");
  devices[2]->read_to_close(5s);

  EXPECT_EQ(wait_for(web, "iotxmpp_reports_accepted_total", 15), 15);
  EXPECT_EQ(wait_for(web, "iotxmpp_reports_refused_total{reason=\"malformed\"}", 1), 1);
  EXPECT_EQ(wait_for(web, "iotxmpp_stanzas_received_total{kind=\"message\"}", 16), 16);
  EXPECT_EQ(wait_for(web, "iotxmpp_stanzas_received_total{kind=\"iq\"}", 3), 3);
  EXPECT_EQ(wait_for(web, "iotxmpp_stanzas_sent_total{kind=\"iq\"}", 3), 3);       // ping results
  EXPECT_EQ(wait_for(web, "iotxmpp_stanzas_sent_total{kind=\"message\"}", 1), 1);  // the error
  EXPECT_EQ(wait_for(web, "iotxmpp_stream_errors_total{condition=\"unsupported-stanza-type\"}", 1),
            1);
  EXPECT_EQ(wait_for(web, "iotxmpp_sessions{state=\"bound\"}", 2), 2);
  EXPECT_EQ(wait_for(web, "iotxmpp_bound_sessions{transport=\"plain\",login=\"anonymous\"}", 2), 2);
  EXPECT_EQ(wait_for(web, "iotxmpp_connections_accepted_total", 3), 3);
  EXPECT_EQ(wait_for(web, "iotxmpp_build_info{version=\"" IOTXMPP_VERSION "\"}", 1), 1);
  EXPECT_EQ(wait_for(web, "iotxmpp_database_up", 1), 1);
  EXPECT_EQ(wait_for(web, "up{job=\"iotxmpp\"}", 1), 1);
  EXPECT_EQ(wait_for(web, "iotxmpp_feed_lag_seconds", 0), 0);
  // Every report, presence and device row committed, in at least one batch.
  auto committed = query(web, "iotxmpp_store_committed_items_total >= 15");
  EXPECT_TRUE(committed) << "fewer than 15 items committed";
  auto commits = query(web, "iotxmpp_store_commit_seconds_count > 0");
  EXPECT_TRUE(commits) << "no commit latency observed";
  auto batches = query(web, "iotxmpp_store_batch_items_sum >= 15");
  EXPECT_TRUE(batches);
  EXPECT_TRUE(prometheus.running());
}

// --- examples --------------------------------------------------------------------

TEST(ServeMetrics, ExampleScrapeConfigAndAlertRulesPassPromtool) {
  auto config = run_process({"promtool", "check", "config", examples + "prometheus.yml"}, {}, 30s);
  EXPECT_EQ(config.exit_code, 0) << config.out << config.err;
  // The config names the rules file: checking it checks them too.
  EXPECT_NE(config.out.find("iotxmpp-alerts.yml"), std::string::npos) << config.out;
  auto rules =
      run_process({"promtool", "check", "rules", examples + "iotxmpp-alerts.yml"}, {}, 30s);
  EXPECT_EQ(rules.exit_code, 0) << rules.out << rules.err;
  EXPECT_NE(rules.out.find("SUCCESS: 4 rules found"), std::string::npos) << rules.out;
  // And they fire when they should, and not before (promtool's rule tests).
  auto fired = run_process(
      {"promtool", "test", "rules", IOTXMPP_SOURCE_DIR "/tests/cli/metrics_alerts_test.yml"}, {},
      30s);
  EXPECT_EQ(fired.exit_code, 0) << fired.out << fired.err;
}

TEST(ServeMetrics, ABadOrTakenMetricsAddressFailsTheStart) {
  temp_dir dir;
  const std::string db = "sqlite:" + dir.path() + "/s.db";
  auto bad =
      run_iotxmpp({"serve", "--db", db, "--listen", "127.0.0.1:0", "--metrics", "nohost"}, {}, 10s);
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_NE(bad.err.find("--metrics nohost"), std::string::npos) << bad.err;
  auto server = metrics_server();
  const auto taken = server.get().metrics_endpoint().second;
  auto busy = run_iotxmpp({"serve", "--db", db, "--listen", "127.0.0.1:0", "--metrics",
                           "127.0.0.1:" + std::to_string(taken)},
                          {}, 10s);
  EXPECT_EQ(busy.exit_code, 7) << busy.err;
  EXPECT_NE(busy.err.find("(--metrics)"), std::string::npos) << busy.err;
}

}  // namespace
}  // namespace iotxmpp::test
