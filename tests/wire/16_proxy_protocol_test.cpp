// 16: PROXY protocol listeners (PROTOCOL.md §1; serve --listen-proxy,
// --listen-tls-proxy, --trusted-proxy). Headers v1 and v2 give the device's
// own address to its anonymous JID and to the per-address limits; an
// untrusted source, a malformed header and a missing one are closed and
// logged; LOCAL and UNKNOWN use the real peer; direct TLS starts after the
// header; and the real HAProxy with send-proxy-v2 and PROXY health checks
// in front of the server gives each device its own address and port.

#include <arpa/inet.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/base/log.hpp"
#include "support/child_process.hpp"
#include "support/log_capture.hpp"
#include "support/process.hpp"
#include "support/test_pki.hpp"
#include "wire/wire_fixture.hpp"

namespace iotxmpp::test {
namespace {

using namespace std::chrono_literals;
using clk = std::chrono::steady_clock;

std::string v1(std::string_view proto, std::string_view src, std::string_view dst,
               unsigned short sport, unsigned short dport) {
  return "PROXY " + std::string(proto) + " " + std::string(src) + " " + std::string(dst) + " " +
         std::to_string(sport) + " " + std::to_string(dport) + "\r\n";
}

const std::string v2_signature("\r\n\r\n\0\r\nQUIT\n", 12);

std::string be16(unsigned v) {
  return {static_cast<char>((v >> 8) & 0xff), static_cast<char>(v & 0xff)};
}

// A v2 PROXY header for TCP over IPv4 or IPv6 (by the address text), with
// `tlvs` after the addresses.
std::string v2(const std::string& src, unsigned short sport, const std::string& dst,
               unsigned short dport, const std::string& tlvs = {}) {
  const bool six = src.find(':') != std::string::npos;
  unsigned char a[16], b[16];
  if (inet_pton(six ? AF_INET6 : AF_INET, src.c_str(), a) != 1 ||
      inet_pton(six ? AF_INET6 : AF_INET, dst.c_str(), b) != 1)
    throw std::runtime_error("bad test address");
  const std::size_t n = six ? 16 : 4;
  std::string block(reinterpret_cast<char*>(a), n);
  block.append(reinterpret_cast<char*>(b), n);
  block += be16(sport) + be16(dport) + tlvs;
  return v2_signature + "\x21" + (six ? "\x21" : "\x11") + be16(block.size()) + block;
}

// v2 LOCAL, as HAProxy's check-send-proxy sends it.
std::string v2_local() { return v2_signature + std::string("\x20\x00\x00\x00", 4); }

// After `preamble` (the PROXY header, sent in the same write as the stream
// header): SASL ANONYMOUS and bind; the full JID.
std::string negotiate_behind(raw_client& c, const std::string& preamble) {
  c.send(preamble + raw_client::header());
  const std::string features = c.read_until("</stream:features>");
  if (features.find("ANONYMOUS") == std::string::npos)
    throw std::runtime_error("no features: " + features);
  c.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='ANONYMOUS'/>");
  if (c.read_until("/>").find("<success") == std::string::npos)
    throw std::runtime_error("auth failed");
  return c.bind_after_auth();
}

// A server with a plain listener (port 0) and a PROXY listener (port 1)
// that trusts `trusted`.
std::unique_ptr<test_server> proxied(std::vector<std::string> trusted = {"127.0.0.0/8"},
                                     const std::function<void(server_options&)>& more = {}) {
  return std::make_unique<test_server>([&](server_options& o) {
    o.config.listen_proxy = {"127.0.0.1:0"};
    o.config.trusted_proxies = trusted;
    if (more) more(o);
  });
}

TEST(Wire16ProxyProtocol, V1HeaderGivesTheDeviceAddressToItsJid) {
  log_capture log;
  auto s = proxied();
  log.show(log::level::info);
  raw_client c("127.0.0.1", s->port(1));
  EXPECT_EQ(negotiate_behind(c, v1("TCP4", "203.0.113.7", "192.0.2.1", 40001, 5222)),
            "40001@203.0.113.7/dev");
  ASSERT_TRUE(sync(c));
  EXPECT_NE(log.wait_for({"bound", "jid=40001@203.0.113.7/dev"}), "") << log.text();

  raw_client six("127.0.0.1", s->port(1));
  EXPECT_EQ(negotiate_behind(six, v1("TCP6", "2001:db8::7", "2001:db8::1", 40002, 5222)),
            "40002@[2001:db8::7]/dev");
  // The plain listener beside it still takes direct connections.
  raw_client direct("127.0.0.1", s->port(0));
  EXPECT_EQ(direct.negotiate(), std::to_string(direct.local_port()) + "@127.0.0.1/dev");
}

TEST(Wire16ProxyProtocol, V2HeaderWithTlvsGivesTheDeviceAddressToItsJid) {
  auto s = proxied();
  raw_client c("127.0.0.1", s->port(1));
  // A NOOP TLV and a unique-id TLV, skipped.
  const std::string tlvs = std::string("\x04", 1) + be16(3) + "abc" + "\x05" + be16(4) + "uid1";
  EXPECT_EQ(negotiate_behind(c, v2("198.51.100.23", 50123, "192.0.2.1", 5222, tlvs)),
            "50123@198.51.100.23/dev");
  c.send(report("r1"));
  ASSERT_TRUE(sync(c));
  raw_client six("127.0.0.1", s->port(1));
  EXPECT_EQ(negotiate_behind(six, v2("2001:db8::23", 50124, "2001:db8::1", 5222)),
            "50124@[2001:db8::23]/dev");
}

TEST(Wire16ProxyProtocol, AHeaderSplitAcrossWritesIsWaitedFor) {
  auto s = proxied();
  raw_client c("127.0.0.1", s->port(1));
  const std::string header = v2("203.0.113.9", 41000, "192.0.2.1", 5222);
  // Three writes (TCP_NODELAY): the server reads the header as it comes.
  c.send(header.substr(0, 5));
  std::this_thread::sleep_for(30ms);
  c.send(header.substr(5, 14));
  std::this_thread::sleep_for(30ms);
  EXPECT_EQ(negotiate_behind(c, header.substr(19)), "41000@203.0.113.9/dev");
}

TEST(Wire16ProxyProtocol, AnUntrustedSourceIsClosedAtOnceAndLogged) {
  log_capture log;
  auto s = proxied({"192.0.2.0/24", "2001:db8::/32"});
  raw_client c("127.0.0.1", s->port(1));
  const auto start = clk::now();
  c.read_to_close(4s);
  EXPECT_TRUE(c.closed());
  EXPECT_LT(clk::now() - start, 2s) << "closed at once, not at the header deadline";
  const std::string line =
      log.wait_for({"warn", "untrusted", "source=127.0.0.1:" + std::to_string(c.local_port())});
  EXPECT_NE(line, "") << log.text();
}

// Anyone can connect: a flood from untrusted addresses is closed, each at
// once, but logged at most 20 times in 10 s (log_limiter.hpp).
TEST(Wire16ProxyProtocol, AFloodOfUntrustedConnectionsDoesNotFloodTheLog) {
  log_capture log;
  auto s = proxied({"192.0.2.0/24"});
  constexpr int connections = 60;
  const auto start = clk::now();
  for (int i = 0; i < connections; ++i) {
    raw_client c("127.0.0.1", s->port(1));
    c.read_to_close(4s);
    ASSERT_TRUE(c.closed()) << i;
  }
  const auto took = clk::now() - start;
  ASSERT_NE(log.wait_for({"warn", "untrusted"}), "") << log.text();
  std::this_thread::sleep_for(100ms);  // a late line would show below
  const std::string text = log.text();
  const std::size_t lines = log.count("untrusted address");
  // 20 per 10 s window the flood spans (one, unless the machine crawled).
  const auto windows = static_cast<std::size_t>(took / 10s) + 1;
  EXPECT_GE(lines, 20u) << text;
  EXPECT_LE(lines, 20u * windows) << text;
  EXPECT_LT(lines, std::size_t(connections)) << text;
}

TEST(Wire16ProxyProtocol, AMalformedHeaderIsClosedAtOnceAndLogged) {
  log_capture log;
  auto s = proxied();
  for (const std::string& bad :
       {raw_client::header(), std::string("PROXY TCP4 203.0.113.7 192.0.2.1 40001\r\n"),
        std::string("PROXY TCP4 203.0.113.7 192.0.2.1 40001 5222\n"),
        v2_signature + "\x31\x11" + be16(12) + std::string(12, '\1')}) {
    raw_client c("127.0.0.1", s->port(1));
    c.send(bad);
    const auto start = clk::now();
    const std::string got = c.read_to_close(4s);
    EXPECT_TRUE(c.closed());
    EXPECT_EQ(got, "") << "nothing of XMPP before the header";
    EXPECT_LT(clk::now() - start, 2s);
    EXPECT_NE(log.wait_for({"warn", "malformed PROXY header",
                            "source=127.0.0.1:" + std::to_string(c.local_port())}),
              "")
        << log.text();
  }
}

TEST(Wire16ProxyProtocol, AMissingOrUnfinishedHeaderIsClosedAtTheDeadline) {
  log_capture log;
  auto s =
      proxied({"127.0.0.0/8"}, [](server_options& o) { o.config.proxy_header_timeout = 300ms; });
  raw_client silent("127.0.0.1", s->port(1));
  raw_client halfway("127.0.0.1", s->port(1));
  halfway.send("PROXY TCP4 203.0.");
  silent.read_to_close(4s);
  halfway.read_to_close(4s);
  EXPECT_TRUE(silent.closed());
  EXPECT_TRUE(halfway.closed());
  EXPECT_NE(log.wait_for({"warn", "no complete PROXY header", "received=0",
                          "source=127.0.0.1:" + std::to_string(silent.local_port())}),
            "")
      << log.text();
  EXPECT_NE(log.wait_for({"warn", "no complete PROXY header", "received=17",
                          "source=127.0.0.1:" + std::to_string(halfway.local_port())}),
            "")
      << log.text();
}

TEST(Wire16ProxyProtocol, LocalAndUnknownUseTheRealPeer) {
  log_capture log;
  auto s = proxied();
  log.show(log::level::debug);
  raw_client local("127.0.0.1", s->port(1));
  EXPECT_EQ(negotiate_behind(local, v2_local()),
            std::to_string(local.local_port()) + "@127.0.0.1/dev");
  raw_client unknown("127.0.0.1", s->port(1));
  EXPECT_EQ(negotiate_behind(unknown, "PROXY UNKNOWN\r\n"),
            std::to_string(unknown.local_port()) + "@127.0.0.1/dev");
  // A health check: LOCAL, then gone. Worth no warning.
  for (int i = 0; i < 3; ++i) {
    raw_client check("127.0.0.1", s->port(1));
    check.send(v2_local());
  }
  { raw_client plain_check("127.0.0.1", s->port(1)); }  // a TCP check: connect, close
  EXPECT_NE(log.wait_for({"closed before sending a PROXY header"}), "") << log.text();
  EXPECT_NE(log.wait_for({"disconnected"}), "") << log.text();
  ASSERT_TRUE(sync(local));
  EXPECT_EQ(log.warnings(), "");
}

TEST(Wire16ProxyProtocol, PerAddressLimitsCountTheDeviceNotTheProxy) {
  auto s = proxied({"127.0.0.0/8"}, [](server_options& o) {
    o.config.rates.connections_per_second = 0.1;
    o.config.rates.burst_seconds = 30;  // 3 at once, then one per 10 s
    o.config.rates.limit_loopback = false;
  });
  auto connect_as = [&](const std::string& device, unsigned short port) {
    auto c = std::make_unique<raw_client>("127.0.0.1", s->port(1));
    c->send(v1("TCP4", device, "192.0.2.1", port, 5222) + raw_client::header());
    return c;
  };
  std::vector<std::unique_ptr<raw_client>> open;
  // The proxy is loopback (exempt): a device behind it is not.
  for (unsigned short i = 0; i < 3; ++i) {
    open.push_back(connect_as("198.51.100.1", 1000 + i));
    EXPECT_NE(open.back()->read_until("</stream:features>"), "") << i;
  }
  auto over = connect_as("198.51.100.1", 1003);
  EXPECT_NE(over->read_to_close().find("policy-violation"), std::string::npos)
      << "the fourth connection from one device address is over its rate";
  // Another device behind the same proxy has its own allowance.
  for (unsigned short i = 0; i < 3; ++i) {
    open.push_back(connect_as("198.51.100.2", 2000 + i));
    EXPECT_NE(open.back()->read_until("</stream:features>"), "") << i;
  }
  // And a device whose own address is loopback keeps the exemption.
  for (unsigned short i = 0; i < 5; ++i) {
    open.push_back(connect_as("127.0.0.9", 3000 + i));
    EXPECT_NE(open.back()->read_until("</stream:features>"), "") << i;
  }
}

TEST(Wire16ProxyProtocol, DirectTlsStartsAfterAV2Header) {
  test_pki pki;
  auto s = std::make_unique<test_server>([&](server_options& o) {
    o.config.tls_cert = pki.server_cert();
    o.config.tls_key = pki.server_key();
    o.config.listen_tls_proxy = {"127.0.0.1:0"};
    o.config.trusted_proxies = {"127.0.0.1/32"};
  });
  raw_client c("127.0.0.1", s->port(1));
  c.send(v2("203.0.113.44", 45000, "192.0.2.1", 5223));
  c.start_tls({.ca_file = pki.ca_cert()});  // the handshake follows the header
  EXPECT_EQ(c.negotiate(), "45000@203.0.113.44/dev");
  ASSERT_TRUE(sync(c));

  // A client that starts TLS without the header is refused.
  raw_client bare("127.0.0.1", s->port(1));
  EXPECT_THROW(bare.start_tls({.ca_file = pki.ca_cert()}), std::runtime_error);
}

TEST(Wire16ProxyProtocol, AProxyListenerWithoutTrustedProxiesDoesNotStart) {
  server_options o;
  o.config.listen = {};
  o.config.listen_proxy = {"127.0.0.1:0"};
  temp_dir dir;
  o.store_url = "sqlite:" + dir.path() + "/t.db";
  auto r = server::start(o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, error_kind::usage);
  EXPECT_NE(r.error().message.find("--trusted-proxy"), std::string::npos) << r.error().message;
  o.config.trusted_proxies = {"10.0.0.1/8"};
  r = server::start(o);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("10.0.0.0/8"), std::string::npos) << r.error().message;
}

// Whether something accepts connections on 127.0.0.1:port.
bool accepting(unsigned short port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(fd);
  return ok;
}

TEST(Wire16ProxyProtocol, NodeIdDefaultsToTheHostName) {
  char host[256] = {};
  ASSERT_EQ(gethostname(host, sizeof host - 1), 0);
  test_server s;
  EXPECT_EQ(s.get().node_id(), host);
  test_server named([](server_options& o) { o.config.node_id = "node-1.a_b"; });
  EXPECT_EQ(named.get().node_id(), "node-1.a_b");
}

// The serve command: a PROXY listener without --trusted-proxy is a usage
// error (exit 2, one line); with one, it replaces the default listener,
// and the start is logged with the node id.
TEST(Wire16ProxyProtocol, ServeFlags) {
  temp_dir dir;
  const std::string db = "sqlite:" + dir.path() + "/serve.db";
  auto refused = run_iotxmpp({"serve", "--db", db, "--listen-proxy", "127.0.0.1:0"});
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_EQ(refused.err,
            "iotxmpp: --listen-proxy needs --trusted-proxy CIDR (the load balancers' addresses)\n");
  auto loose = run_iotxmpp(
      {"serve", "--db", db, "--listen-proxy", "127.0.0.1:0", "--trusted-proxy", "127.0.0.1/8"});
  EXPECT_EQ(loose.exit_code, 2);
  EXPECT_EQ(loose.err,
            "iotxmpp: --trusted-proxy 127.0.0.1/8: bits set below the prefix (the network is "
            "127.0.0.0/8)\n");
  auto bad_node = run_iotxmpp({"serve", "--db", db, "--node-id", "a/b"});
  EXPECT_EQ(bad_node.exit_code, 2);
  EXPECT_NE(bad_node.err.find("--node-id a/b"), std::string::npos) << bad_node.err;

  const unsigned short port = raw_client::free_port();
  child_process serve({"serve", "--db", db, "--listen-proxy", "127.0.0.1:" + std::to_string(port),
                       "--trusted-proxy", "127.0.0.0/8", "--trusted-proxy", "::1", "--node-id",
                       "n1"});
  bool up = false;
  for (auto until = clk::now() + 10s; !up && clk::now() < until; std::this_thread::sleep_for(20ms))
    up = accepting(port);
  ASSERT_TRUE(up) << serve.err();
  {
    raw_client c("127.0.0.1", port);
    EXPECT_EQ(negotiate_behind(c, v1("TCP4", "203.0.113.70", "192.0.2.1", 1234, 5222)),
              "1234@203.0.113.70/dev");
  }
  serve.signal(SIGTERM);
  ASSERT_EQ(serve.wait(10s), 0) << serve.err();
  std::size_t listening = 0;
  for (std::size_t at = 0; (at = serve.err().find(" listening ", at)) != std::string::npos; ++at)
    ++listening;
  EXPECT_EQ(listening, 1u) << "the PROXY listener alone, not [::]:5222 too: " << serve.err();
  EXPECT_NE(serve.err().find("port=" + std::to_string(port) + " tls=none proxy=v1/v2"),
            std::string::npos)
      << serve.err();
  EXPECT_NE(serve.err().find("node=n1"), std::string::npos) << serve.err();
}

// HAProxy, started by the test with its own config on loopback ports.
class haproxy {
 public:
  explicit haproxy(const std::string& config) {
    std::ofstream(dir_.path() + "/haproxy.cfg") << config;
    const std::string log_path = dir_.path() + "/haproxy.log";
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      const int out = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      const int null = open("/dev/null", O_RDONLY);
      dup2(null, 0);
      dup2(out, 1);
      dup2(out, 2);
      close_range(3, ~0U, 0);  // the test server's sockets stay out of it
      const std::string cfg = dir_.path() + "/haproxy.cfg";
      execl(binary, binary, "-db", "-f", cfg.c_str(), static_cast<char*>(nullptr));
      std::fprintf(stderr, "exec haproxy: %s\n", std::strerror(errno));
      _exit(127);
    }
  }
  ~haproxy() {
    kill(pid_, SIGTERM);
    for (int i = 0; i < 100; ++i) {
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) return;
      std::this_thread::sleep_for(20ms);
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  // Still running (not exited over its config, say).
  bool running() const { return waitpid(pid_, nullptr, WNOHANG) == 0; }
  std::string output() const {
    std::ifstream in(dir_.path() + "/haproxy.log");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  static constexpr const char* binary = "/usr/sbin/haproxy";

 private:
  temp_dir dir_;
  pid_t pid_ = -1;
};

TEST(Wire16ProxyProtocol, ThroughHaproxySendProxyV2EachDeviceKeepsItsAddress) {
  ASSERT_TRUE(std::filesystem::exists(haproxy::binary))
      << "haproxy is not installed: run scripts/setup-deps";
  log_capture log;
  // HAProxy connects to the server from 127.0.0.3 (its `source`), the only
  // trusted address; the devices connect to HAProxy from 127.0.0.1.
  auto s = proxied({"127.0.0.3/32"});
  log.show(log::level::debug);
  const unsigned short front = raw_client::free_port();
  haproxy lb(
      "global\n"
      "  maxconn 100\n"
      "defaults\n"
      "  mode tcp\n"
      "  timeout connect 5s\n"
      "  timeout client 60s\n"
      "  timeout server 60s\n"
      "frontend xmpp\n"
      "  bind 127.0.0.1:" +
      std::to_string(front) +
      "\n"
      "  default_backend nodes\n"
      "backend nodes\n"
      "  server node1 127.0.0.1:" +
      std::to_string(s->port(1)) +
      " source 127.0.0.3 send-proxy-v2 check check-send-proxy inter 100ms\n");
  const auto deadline = clk::now() + 10s;
  while (!accepting(front) && lb.running() && clk::now() < deadline)
    std::this_thread::sleep_for(20ms);
  ASSERT_TRUE(lb.running()) << lb.output();
  ASSERT_TRUE(accepting(front)) << lb.output();

  raw_client one("127.0.0.1", front);
  raw_client two("127.0.0.1", front);
  EXPECT_EQ(one.negotiate("a"), std::to_string(one.local_port()) + "@127.0.0.1/a") << log.text();
  EXPECT_EQ(two.negotiate("b"), std::to_string(two.local_port()) + "@127.0.0.1/b");
  one.send(report("h1"));
  ASSERT_TRUE(sync(one));
  // HAProxy's health checks (a LOCAL header, then gone) reach the server
  // and are no warning.
  EXPECT_NE(
      log.wait_for({"PROXY header without a client address", "command=LOCAL", "proxy=127.0.0.3:"}),
      "")
      << log.text() << lb.output();
  EXPECT_EQ(log.warnings(), "");
}

}  // namespace
}  // namespace iotxmpp::test
