#include "loadgen_session.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include "loadgen_wire.hpp"

namespace loadgen {
namespace {

double ms_since(steady::time_point t) {
  return std::chrono::duration<double, std::milli>(steady::now() - t).count();
}

// Anything in `in` that ends a login: a stream error or a SASL failure.
bool login_refused(const std::string& in) {
  return in.find("<stream:error") != std::string::npos || in.find("<failure") != std::string::npos;
}

void watch_errors(event_loop& loop, connection& c) {
  c.in.clear();
  c.on_read = [&loop](connection& c, std::string_view data) {
    if (data.find("stream:error") != std::string_view::npos)
      loop.fail(c, "stream error: " + std::string(data.substr(0, 300)));
  };
}

// The text of the first <NAME ...>TEXT</NAME> in `in` ("" for <NAME/>);
// nullopt while it is incomplete.
std::optional<std::string> element_text(const std::string& in, std::string_view name) {
  // Appends rather than `"<" + std::string(name)`: GCC 12 warns (-Wrestrict,
  // a false positive) at -O2 on operator+(const char*, std::string&&).
  auto open = in.find(std::string("<").append(name));
  if (open == std::string::npos) return std::nullopt;
  auto gt = in.find('>', open);
  if (gt == std::string::npos) return std::nullopt;
  if (in[gt - 1] == '/') return std::string();
  auto close = in.find("</" + std::string(name) + ">", gt);
  if (close == std::string::npos) return std::nullopt;
  return in.substr(gt + 1, close - gt - 1);
}

// One XMPP login as a state machine on c.step: 1 features (first, or after
// TLS), 2 SASL under way, 3 features after the SASL restart, 4 bind (or
// `ending`'s request), 5 bound (or ended), 6 refused by `ending`; 10
// STARTTLS asked, awaiting <proceed/>.
void xmpp_login(event_loop& loop, connection& c, const target& t,
                const std::function<void(connection&)>& bound,
                const std::function<void(connection&)>& refused, const login_ending* ending) {
  c.step = 1;
  c.in.clear();
  c.on_connect = [&loop, &t](connection& c) { loop.send_copy(c, xmpp_stream_header(t.domain)); };
  scram_exchange scram;
  c.on_read = [&loop, &t, bound, refused, ending, scram](connection& c,
                                                         std::string_view data) mutable {
    c.in.append(data);
    if (login_refused(c.in)) {
      loop.fail(c, "login refused: " + c.in.substr(0, 300));
      return;
    }
    static constexpr std::string_view features = "</stream:features>";
    switch (c.step) {
      case 1:
        if (c.in.find(features) == std::string::npos) return;
        c.in.clear();
        if (t.tls == tls_mode::starttls && !c.ssl) {
          c.step = 10;
          loop.send_copy(c, xmpp_starttls());
          return;
        }
        c.step = 2;
        if (t.user_pattern.empty())
          loop.send_copy(c, xmpp_auth_anonymous());
        else
          loop.send_copy(c, xmpp_auth("SCRAM-SHA-256", scram.client_first(t.user(c.index))));
        return;
      case 10:
        if (c.in.find("<proceed") == std::string::npos) return;
        c.in.clear();
        c.step = 1;
        loop.start_tls(c, t.tls_ctx);  // on_connect sends the new stream header
        return;
      case 2: {
        if (auto challenge = element_text(c.in, "challenge")) {
          c.in.clear();
          auto decoded = base64_decode(*challenge);
          auto final = decoded ? scram.client_final(*decoded, *t.passwords) : std::nullopt;
          if (!final) {
            loop.fail(c, "SCRAM: bad server-first-message: " + *challenge);
            return;
          }
          loop.send_copy(c, xmpp_sasl_response(*final));
          return;
        }
        auto success = element_text(c.in, "success");
        if (!success) return;
        if (!t.user_pattern.empty()) {
          auto decoded = base64_decode(*success);
          if (!decoded || !scram.verify(*decoded)) {
            loop.fail(c, "SCRAM: the server's signature does not verify: " + *success);
            return;
          }
        }
        c.in.clear();
        c.step = 3;
        loop.send_copy(c, xmpp_stream_header(t.domain));
        return;
      }
      case 3:
        if (c.in.find(features) == std::string::npos) return;
        c.in.clear();
        c.step = 4;
        loop.send_copy(c, ending ? ending->request(c.index) : xmpp_bind("bind1"));
        return;
      case 4: {
        if (ending) {
          int outcome = ending->outcome(c.in);
          if (outcome == 0) return;
          std::string answer = std::move(c.in);
          c.step = outcome > 0 ? 5 : 6;
          auto done = outcome > 0 ? bound : refused;  // watch_errors destroys this closure
          watch_errors(loop, c);
          c.in = std::move(answer);
          done(c);
          return;
        }
        auto end = c.in.find("</jid>");
        if (end == std::string::npos) return;
        auto begin = c.in.find("<jid>");
        std::string jid = begin < end ? c.in.substr(begin + 5, end - begin - 5) : std::string();
        c.step = 5;
        auto done = bound;  // watch_errors replaces (destroys) this closure
        watch_errors(loop, c);
        c.in = std::move(jid);
        done(c);
        return;
      }
      default:
        return;
    }
  };
}

void mqtt_login(event_loop& loop, connection& c, const target& t,
                const std::function<void(connection&)>& bound) {
  c.step = 1;
  c.in.clear();
  c.on_connect = [&loop, &t](connection& c) {
    std::string id = "lg" + std::to_string(getpid()) + "-" + std::to_string(c.index);
    loop.send_copy(c, t.user_pattern.empty() ? mqtt_connect(id)
                                             : mqtt_connect(id, t.user(c.index), t.password));
  };
  c.on_read = [&loop, bound](connection& c, std::string_view data) {
    c.in.append(data);
    if (c.in.size() < 4) return;
    if (c.in[0] != '\x20' || c.in[3] != '\0') {
      loop.fail(c, "CONNACK refused");
      return;
    }
    c.step = 5;
    c.in.clear();
    auto done = bound;  // the assignment below destroys this closure
    c.on_read = [](connection&, std::string_view) {};
    done(c);
  };
}

}  // namespace

std::string target::user(std::size_t i) const {
  std::string u = user_pattern;
  auto at = u.find("{n}");
  if (at != std::string::npos) u.replace(at, 3, std::to_string(i));
  return u;
}

login_outcome login_all(event_loop& loop, std::deque<connection>& conns, const target& t,
                        std::size_t inflight, steady::time_point deadline,
                        const login_ending* ending) {
  login_outcome out;
  out.latency_ms.reserve(conns.size());
  std::size_t next = 0;
  std::vector<std::size_t> slot_of(conns.size(), 0);
  const auto t0 = steady::now();
  auto last = t0;
  bool failed = false;
  std::function<void(std::size_t)> start;
  // A slot keeps its source address, so no address has more than
  // inflight / sources logins negotiating at once (servers limit that).
  auto bound = [&](connection& c) {
    last = steady::now();
    out.latency_ms.push_back(ms_since(c.started));
    ++out.bound;
    if (next < conns.size()) start(slot_of[c.index]);
  };
  auto refused = [&](connection& c) {
    ++out.refused;
    if (next < conns.size()) start(slot_of[c.index]);
  };
  start = [&](std::size_t slot) {
    std::size_t i = next++;
    slot_of[i] = slot;
    connection& c = conns[i];
    c.index = i;
    if (t.proto == protocol::xmpp)
      xmpp_login(loop, c, t, bound, refused, ending);
    else
      mqtt_login(loop, c, t, bound);
    std::string source = t.sources.empty() ? std::string() : t.sources[slot % t.sources.size()];
    ssl_ctx_st* tls = t.tls == tls_mode::direct ? t.tls_ctx : nullptr;
    endpoint to = t.to;
    if (!t.ports.empty()) to.port = t.ports[i % t.ports.size()];
    if (!loop.open(c, to, source, tls)) failed = true;
  };
  for (std::size_t s = 0; s < std::min(inflight, conns.size()); ++s) start(s);
  std::size_t failures_before = loop.failures();
  loop.run(
      [&] {
        return failed || out.bound + out.refused == conns.size() ||
               loop.failures() > failures_before;
      },
      deadline);
  out.seconds = std::chrono::duration<double>(last - t0).count();
  out.first = t0;
  out.last = last;
  // The callbacks of a login still under way refer to this frame.
  for (auto& c : conns)
    if (c.step != 5 && c.step != 6) {
      loop.close(c);
      c.on_read = nullptr;
      c.on_connect = nullptr;
    }
  return out;
}

bool recommend_prober::start(const target& t, std::string room) {
  t_ = t;
  room_ = std::move(room);
  fd_ = blocking_connect(t.to);
  if (fd_ < 0) {
    error_ = "prober: cannot connect";
    return false;
  }
  const auto wait = std::chrono::milliseconds(10000);
  std::string acc;
  bool ok = write_all(fd_, xmpp_stream_header(t.domain)) &&
            read_until(fd_, acc, "</stream:features>", wait) &&
            write_all(fd_, xmpp_auth_anonymous()) && read_until(fd_, acc, "<success", wait);
  acc.clear();
  ok = ok && write_all(fd_, xmpp_stream_header(t.domain)) &&
       read_until(fd_, acc, "</stream:features>", wait);
  acc.clear();
  ok = ok && write_all(fd_, xmpp_bind("pb")) && read_until(fd_, acc, "</jid>", wait);
  if (!ok) error_ = "prober: login failed";
  return ok;
}

void recommend_prober::run(std::size_t samples, std::chrono::microseconds gap,
                           const std::atomic<bool>& stop) {
  std::string acc;
  char id[32];
  for (std::size_t i = 0; i < samples && !stop.load(std::memory_order_relaxed); ++i) {
    std::snprintf(id, sizeof id, "rq%09zu", i);
    std::string request = xmpp_recommend(t_.domain, id, room_);
    acc.clear();
    auto t0 = steady::now();
    if (!write_all(fd_, request) || !read_until(fd_, acc, id, std::chrono::milliseconds(10000))) {
      error_ = "prober: no answer to " + std::string(id);
      return;
    }
    rtt_ms_.push_back(ms_since(t0));
    if (acc.find("type='error'") != std::string::npos ||
        acc.find("type=\"error\"") != std::string::npos) {
      error_ = "prober: error reply: " + acc.substr(0, 300);
      return;
    }
    std::this_thread::sleep_for(gap);
  }
}

recommend_prober::~recommend_prober() {
  if (fd_ >= 0) close(fd_);
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  // Nearest rank: the smallest value with at least p% of samples at or below it.
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
  return v[std::clamp<std::size_t>(rank, 1, v.size()) - 1];
}

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto s = [](timeval t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return s(u.ru_utime) + s(u.ru_stime);
}

long rss_kib(long pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

double process_cpu_seconds(long pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(in, stat)) return -1;
  // Fields after the command name (which may hold spaces) in parentheses:
  // state is field 3, utime and stime are fields 14 and 15.
  auto close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream rest(stat.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int f = 3; f <= 15 && rest >> field; ++f) {
    if (f == 14) utime = std::stoull(field);
    if (f == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

void json_object::key(std::string_view k) {
  if (!body_.empty()) body_ += ',';
  body_ += '"';
  body_ += k;
  body_ += "\":";
}

json_object& json_object::number(std::string_view k, double v) {
  key(k);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", std::isfinite(v) ? v : 0.0);
  body_ += buf;
  return *this;
}

json_object& json_object::integer(std::string_view k, long long v) {
  key(k);
  body_ += std::to_string(v);
  return *this;
}

json_object& json_object::text(std::string_view k, std::string_view v) {
  key(k);
  body_ += '"';
  for (char c : v) {
    if (c == '"' || c == '\\') {
      body_ += '\\';
      body_ += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      body_ += ' ';
    } else {
      body_ += c;
    }
  }
  body_ += '"';
  return *this;
}

json_object& json_object::raw(std::string_view k, std::string_view json) {
  key(k);
  body_ += json;
  return *this;
}

std::string latency_json(const std::vector<double>& ms) {
  double sum = 0;
  for (double v : ms) sum += v;
  return json_object()
      .integer("n", static_cast<long long>(ms.size()))
      .number("p50_ms", percentile(ms, 50))
      .number("p99_ms", percentile(ms, 99))
      .number("max_ms", percentile(ms, 100))
      .number("mean_ms", ms.empty() ? 0 : sum / static_cast<double>(ms.size()))
      .str();
}

}  // namespace loadgen
