// The async client and its blocking facade, end to end over real sockets
// against an in-process server (or a scripted fake one where the real server
// would not misbehave on demand).

#include <gtest/gtest.h>

#include <chrono>
#include <optional>

#include "core/base/asio.hpp"
#include "core/client/blocking_client.hpp"
#include "core/client/client.hpp"
#include "core/client/queries.hpp"
#include "core/store/store.hpp"
#include "support/scripted_server.hpp"
#include "support/test_server.hpp"

namespace iotxmpp {
namespace {

using namespace std::chrono_literals;
using test::scripted_server;
using test::test_server;

client_options options_for(unsigned short port, std::string host = "127.0.0.1") {
  client_options o;
  o.server.host = std::move(host);
  o.server.port = port;
  o.connect_timeout = 3s;
  return o;
}

// Runs `io` until `done` holds or 10 s pass; false on the time-out.
template <class F>
bool run_until(asio::io_context& io, F done) {
  auto deadline = std::chrono::steady_clock::now() + 10s;
  io.restart();
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    io.run_one_for(50ms);
    if (io.stopped()) io.restart();
  }
  return true;
}

TEST(Client, ConnectsAndBindsTheRequestedResource) {
  test_server server;
  auto o = options_for(server.port());
  o.resource = "probe";
  blocking_client c(o);
  ASSERT_TRUE(c.connect()) << "connect failed";
  const jid& me = c.async().address();
  EXPECT_EQ(me.domain(), "127.0.0.1");
  EXPECT_EQ(me.resource(), "probe");
  EXPECT_FALSE(me.local().empty());
  EXPECT_TRUE(c.async().bound());
  // The server lists us among the online devices.
  auto items = c.iq(disco_items_request("iot.local"), 3s);
  ASSERT_TRUE(items) << items.error().message;
  auto devices = parse_items(*items);
  EXPECT_NE(std::find(devices.begin(), devices.end(), me.to_string()), devices.end());
}

TEST(Client, ResolvesLocalhostAndConnectsOverIpv6) {
  test_server v4;
  blocking_client by_name(options_for(v4.port(), "localhost"));
  EXPECT_TRUE(by_name.connect());

  test_server v6([](server_options& o) { o.config.listen = {"[::1]:0"}; });
  auto address = server_address::parse("[::1]:" + std::to_string(v6.port()));
  ASSERT_TRUE(address);
  client_options o;
  o.server = *address;
  blocking_client c(o);
  ASSERT_TRUE(c.connect());
  EXPECT_EQ(c.async().address().domain(), "[::1]");
}

TEST(Client, MatchesIqRepliesById) {
  test_server server;
  asio::io_context io;
  client c(io, options_for(server.port()));
  std::optional<result<void>> up;
  c.connect([&](const result<void>& r) { up = r; });
  ASSERT_TRUE(run_until(io, [&] { return up.has_value(); }));
  ASSERT_TRUE(*up);

  // Three requests in flight at once; each handler gets its own answer.
  std::optional<result<xml_element>> version, ping, recommend;
  c.send_iq(version_request("iot.local"), 3s, [&](auto r) { version = std::move(r); });
  c.send_iq(ping_request("iot.local", "my-ping"), 3s, [&](auto r) { ping = std::move(r); });
  c.send_iq(recommend_request("iot.local", "attic"), 3s, [&](auto r) { recommend = std::move(r); });
  ASSERT_TRUE(run_until(io, [&] { return version && ping && recommend; }));
  ASSERT_TRUE(*version);
  EXPECT_EQ(parse_version(**version).name, "iotxmpp");
  ASSERT_TRUE(*ping);
  EXPECT_EQ((*ping)->get("id"), "my-ping");
  ASSERT_TRUE(*recommend);
  auto rec = parse_recommendation(**recommend);
  ASSERT_TRUE(rec) << rec.error().message;
  EXPECT_EQ(rec->room, "attic");
  EXPECT_EQ(rec->targets.size(), 3u);
}

TEST(Client, IqErrorCarriesTheStanzaCondition) {
  test_server server;
  blocking_client c(options_for(server.port()));
  ASSERT_TRUE(c.connect());
  auto reply = c.iq(recommend_request("iot.local", ""), 3s);  // no room: bad-request
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error().kind, error_kind::remote);
  EXPECT_EQ(reply.error().condition, "bad-request");
  EXPECT_TRUE(c.async().bound()) << "a stanza error keeps the stream up";
  EXPECT_TRUE(c.sync(3s));
}

TEST(Client, IqWithoutReplyTimesOut) {
  scripted_server fake(scripted_server::negotiation());  // binds, then never answers
  blocking_client c(options_for(fake.port()));
  ASSERT_TRUE(c.connect());
  auto t0 = std::chrono::steady_clock::now();
  auto reply = c.iq(ping_request("iot.local"), 300ms);
  auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error().kind, error_kind::timeout);
  EXPECT_GE(took, 300ms);
  EXPECT_LT(took, 2s);
  EXPECT_NE(fake.received().find("urn:xmpp:ping"), std::string::npos);
}

TEST(Client, ConnectRefusedIsAConnectError) {
  blocking_client c(options_for(test::unused_port()));
  auto r = c.connect();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, error_kind::connect);
  EXPECT_NE(r.error().message.find("refused"), std::string::npos) << r.error().message;
}

TEST(Client, SilentServerIsAConnectTimeout) {
  scripted_server mute(scripted_server::script{}, /*accept=*/false);
  auto o = options_for(mute.port());
  o.connect_timeout = 300ms;
  blocking_client c(o);
  auto t0 = std::chrono::steady_clock::now();
  auto r = c.connect();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, error_kind::timeout);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
}

TEST(Client, RefusedAuthenticationIsARemoteError) {
  scripted_server fake(scripted_server::script{
      {"version='1.0'>",
       "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/"
       "streams' version='1.0'><stream:features><mechanisms "
       "xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism>"
       "</mechanisms></stream:features>"}});
  blocking_client c(options_for(fake.port()));
  auto r = c.connect();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, error_kind::remote);
  EXPECT_NE(r.error().message.find("ANONYMOUS"), std::string::npos);
}

TEST(Client, StreamErrorIsSurfacedWithItsCondition) {
  test_server server;
  blocking_client c(options_for(server.port()));
  ASSERT_TRUE(c.connect());
  std::optional<std::optional<error>> closed;
  c.async().on_closed([&](const std::optional<error>& why) { closed = why; });
  ASSERT_TRUE(c.send("<bogus/>"));  // not a stanza: unsupported-stanza-type
  c.run_until([&] { return closed.has_value(); }, 5s);
  ASSERT_TRUE(closed.has_value());
  ASSERT_TRUE(closed->has_value());
  EXPECT_EQ((*closed)->kind, error_kind::remote);
  EXPECT_EQ((*closed)->condition, "unsupported-stanza-type");
  EXPECT_FALSE(c.async().bound());
  auto after = c.send("<presence/>");
  ASSERT_FALSE(after);
  EXPECT_EQ(after.error().kind, error_kind::connect);
}

TEST(Client, ServerShutdownFailsPendingIqsAndSaysSystemShutdown) {
  scripted_server fake(scripted_server::negotiation(
      "r", {{"urn:xmpp:ping",
             "<stream:error><system-shutdown "
             "xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>"}}));
  blocking_client c(options_for(fake.port()));
  ASSERT_TRUE(c.connect());
  std::optional<error> why;
  c.async().on_closed([&](const std::optional<error>& w) { why = w; });
  auto reply = c.iq(ping_request("iot.local"), 3s);
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error().condition, "system-shutdown");
  ASSERT_TRUE(why);
  EXPECT_EQ(why->condition, "system-shutdown");
}

TEST(Client, GracefulCloseEndsCleanly) {
  test_server server;
  blocking_client c(options_for(server.port()));
  ASSERT_TRUE(c.connect());
  std::optional<std::optional<error>> closed;
  c.async().on_closed([&](const std::optional<error>& why) { closed = why; });
  c.close();
  ASSERT_TRUE(closed.has_value());
  EXPECT_FALSE(closed->has_value()) << (*closed)->message;
  EXPECT_FALSE(c.async().active());
}

TEST(Client, SendRefusesBeyondTheQueueBound) {
  scripted_server fake(scripted_server::negotiation());
  auto o = options_for(fake.port());
  o.max_queued_bytes = 1000;
  blocking_client c(o);
  ASSERT_TRUE(c.connect());
  ASSERT_TRUE(c.async().send(std::string(600, ' ')));
  auto r = c.async().send(std::string(600, ' '));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().condition, "resource-constraint");
  // The blocking facade waits for room instead.
  EXPECT_TRUE(c.send(std::string(600, ' ')));
}

TEST(Client, ManyClientsShareOneIoContext) {
  test_server server;
  asio::io_context io;
  constexpr int n = 50;
  std::vector<std::unique_ptr<client>> clients;
  int up = 0, answered = 0;
  for (int i = 0; i < n; ++i) {
    clients.push_back(std::make_unique<client>(io, options_for(server.port())));
    client* c = clients.back().get();
    c->connect([&, c](const result<void>& r) {
      if (!r) return;
      ++up;
      c->send_iq(ping_request("iot.local"), 5s, [&](auto reply) { answered += reply ? 1 : 0; });
    });
  }
  ASSERT_TRUE(run_until(io, [&] { return answered == n; }))
      << up << " up, " << answered << " answered";
}

TEST(Client, KeepConnectedReconnectsAcrossAServerRestart) {
  auto server = std::make_unique<test_server>();
  unsigned short port = server->port();
  asio::io_context io;
  client c(io, options_for(port));
  int ups = 0, downs = 0;
  c.keep_connected(
      {50ms, 200ms, 0.5}, [&] { ++ups; }, [&](const error&) { ++downs; });
  ASSERT_TRUE(run_until(io, [&] { return ups == 1; }));
  server.reset();  // system-shutdown, then nobody listens
  ASSERT_TRUE(run_until(io, [&] { return downs >= 2; })) << "no failed reconnect attempt seen";
  EXPECT_FALSE(c.bound());
  test_server again(
      [port](server_options& o) { o.config.listen = {"127.0.0.1:" + std::to_string(port)}; });
  ASSERT_TRUE(run_until(io, [&] { return ups == 2; }));
  EXPECT_TRUE(c.bound());
  c.close();
  ASSERT_TRUE(run_until(io, [&] { return !c.active(); }));
}

TEST(ServerAddress, ParsesHostsPortsAndIpv6) {
  auto a = server_address::parse("example.org");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "example.org");
  EXPECT_EQ(a->port, 5222);
  a = server_address::parse("10.0.0.1:5333");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "10.0.0.1");
  EXPECT_EQ(a->port, 5333);
  a = server_address::parse("[::1]:5223");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "::1");
  EXPECT_EQ(a->port, 5223);
  EXPECT_EQ(a->to_string(), "[::1]:5223");
  a = server_address::parse("fe80::1");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "fe80::1");
  EXPECT_EQ(a->port, 5222);
  for (auto bad :
       {"", ":5222", "host:", "host:0", "host:70000", "host:x1", "[::1", "[::1]x", "[]:1"}) {
    auto r = server_address::parse(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().kind, error_kind::usage);
  }
}

TEST(Backoff, GrowsExponentiallyUpToTheCapWithJitter) {
  backoff b({100ms, 1000ms, 0.5}, 42);
  std::vector<long> bases{100, 200, 400, 800, 1000, 1000, 1000};
  for (long base : bases) {
    auto d = b.next().count();
    EXPECT_LE(d, base);
    EXPECT_GE(d, base / 2);
  }
  b.reset();
  EXPECT_LE(b.next().count(), 100);
  backoff exact({100ms, 1000ms, 0.0}, 1);
  EXPECT_EQ(exact.next(), 100ms);
  EXPECT_EQ(exact.next(), 200ms);
}

TEST(Backoff, JitterSpreadsClients) {
  backoff a({1000ms, 1000ms, 0.5}, 1), b({1000ms, 1000ms, 0.5}, 2);
  int differ = 0;
  for (int i = 0; i < 10; ++i) differ += a.next() != b.next();
  EXPECT_GE(differ, 8);
}

}  // namespace
}  // namespace iotxmpp
