// 03: every stream error of PROTOCOL.md §4, each produced by sending the
// offending bytes, and the guarantee that a broken client disturbs no one.

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/server/registry.hpp"
#include "support/eventually.hpp"
#include "wire/wire_fixture.hpp"

namespace iotxmpp::test {
namespace {

std::string condition_element(std::string_view condition) {
  return std::string("<").append(condition) + " xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>";
}

// Sends `bytes` on a fresh bound (or unbound) session and expects the stream
// error `condition`, then </stream:stream>, then the connection closed.
void expect_stream_error(test_server& server, bool bind, const std::string& bytes,
                         std::string_view condition) {
  raw_client c("127.0.0.1", server.port());
  if (bind)
    c.negotiate();
  else
    c.send(raw_client::header()), c.read_until("</stream:features>");
  c.send(bytes);
  std::string got = c.read_to_close();
  EXPECT_NE(got.find("<stream:error>" + condition_element(condition)), std::string::npos)
      << "sent: " << bytes << "\ngot: " << got;
  EXPECT_NE(got.find("</stream:stream>"), std::string::npos) << got;
  EXPECT_TRUE(c.closed()) << "connection not closed after " << condition;
}

TEST(Wire03Errors, NotWellFormed) {
  test_server server;
  expect_stream_error(server, true, "<message><body>x</bod></message>", "not-well-formed");
  expect_stream_error(server, true, "<message a='1' a='2'/>", "not-well-formed");
  expect_stream_error(server, true, "<iq type='get' id='1'>\xff\xfe</iq>", "not-well-formed");
}

TEST(Wire03Errors, InvalidNamespace) {
  test_server server;
  raw_client c("127.0.0.1", server.port());
  c.send(
      "<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' "
      "to='iot.local' version='1.0'>");
  std::string got = c.read_to_close();
  EXPECT_NE(got.find("<stream:stream"), std::string::npos) << "header first: " << got;
  EXPECT_NE(got.find(condition_element("invalid-namespace")), std::string::npos) << got;
}

TEST(Wire03Errors, NotAuthorizedBeforeBind) {
  test_server server;
  expect_stream_error(server, false, report("x"), "not-authorized");
  expect_stream_error(server, false, ping("p"), "not-authorized");
}

TEST(Wire03Errors, UnsupportedStanzaType) {
  test_server server;
  expect_stream_error(server, true, "<foo xmlns='jabber:client'/>", "unsupported-stanza-type");
}

TEST(Wire03Errors, RestrictedXml) {
  test_server server;
  expect_stream_error(server, true, "<!-- a comment -->", "restricted-xml");
  expect_stream_error(server, true, "<?php echo 1; ?>", "restricted-xml");
  expect_stream_error(server, true, "<!DOCTYPE message [<!ENTITY x 'y'>]>", "restricted-xml");
  expect_stream_error(server, true, "<message><body>&custom;</body></message>", "restricted-xml");
}

TEST(Wire03Errors, PolicyViolationTooBigCarriesStanzaTooBig) {
  test_server server([](server_options& o) { o.config.limits.max_stanza_bytes = 1024; });
  raw_client c("127.0.0.1", server.port());
  c.negotiate();
  c.send("<message><body>" + std::string(2000, 'x') + "</body></message>");
  std::string got = c.read_to_close();
  EXPECT_NE(got.find(condition_element("policy-violation")), std::string::npos) << got;
  EXPECT_NE(got.find("<stanza-too-big xmlns='urn:xmpp:errors'/>"), std::string::npos) << got;
}

TEST(Wire03Errors, PolicyViolationTooDeep) {
  test_server server;
  std::string deep;
  for (int i = 0; i < 40; ++i) deep += "<a>";
  for (int i = 0; i < 40; ++i) deep += "</a>";
  expect_stream_error(server, true, "<message>" + deep + "</message>", "policy-violation");
}

TEST(Wire03Errors, PolicyViolationTooManyNegotiatingFromOneAddress) {
  test_server server([](server_options& o) { o.config.max_negotiating_per_address = 3; });
  std::vector<std::unique_ptr<raw_client>> half_open;
  for (int i = 0; i < 3; ++i) {
    half_open.push_back(std::make_unique<raw_client>("127.0.0.1", server.port()));
    half_open.back()->send(raw_client::header());
    half_open.back()->read_until("</stream:features>");
  }
  raw_client fourth("127.0.0.1", server.port());
  std::string got = fourth.read_to_close();
  EXPECT_NE(got.find("<stream:stream"), std::string::npos) << got;
  EXPECT_NE(got.find(condition_element("policy-violation")), std::string::npos) << got;
  // Once one of them binds, its slot is free again.
  half_open[0]->send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='ANONYMOUS'/>");
  half_open[0]->read_until("/>");
  half_open[0]->send(raw_client::header());
  half_open[0]->read_until("</stream:features>");
  half_open[0]->send("<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>");
  half_open[0]->read_until("</iq>");
  raw_client fifth("127.0.0.1", server.port());
  EXPECT_NE(fifth.negotiate().find("@127.0.0.1/"), std::string::npos);
}

TEST(Wire03Errors, ConnectionTimeoutWhenNegotiationIsSlow) {
  test_server server(
      [](server_options& o) { o.config.negotiation_timeout = std::chrono::milliseconds(300); });
  raw_client c("127.0.0.1", server.port());
  c.send(raw_client::header());
  std::string got = c.read_to_close(std::chrono::seconds(5));
  EXPECT_NE(got.find(condition_element("connection-timeout")), std::string::npos) << got;
}

TEST(Wire03Errors, ConnectionTimeoutWhenIdle) {
  test_server server(
      [](server_options& o) { o.config.idle_timeout = std::chrono::milliseconds(400); });
  raw_client c("127.0.0.1", server.port());
  c.negotiate();
  std::string got = c.read_to_close(std::chrono::seconds(5));
  EXPECT_NE(got.find(condition_element("connection-timeout")), std::string::npos) << got;
}

TEST(Wire03Errors, WhitespaceKeepaliveKeepsSessionAlive) {
  // Up for twice the idle timeout, never silent for long: a space every
  // 50 ms, a small part of the timeout, so that a test thread woken late on a
  // loaded machine still keeps well inside it.
  constexpr auto idle = std::chrono::milliseconds(1200);
  test_server server([&](server_options& o) { o.config.idle_timeout = idle; });
  raw_client c("127.0.0.1", server.port());
  c.negotiate();
  const auto start = std::chrono::steady_clock::now();
  auto last = start;
  std::chrono::steady_clock::duration longest_gap{};
  while (std::chrono::steady_clock::now() - start < 2 * idle) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const auto now = std::chrono::steady_clock::now();
    longest_gap = std::max(longest_gap, now - last);
    c.send(" ");
    last = now;
  }
  ASSERT_LT(longest_gap, idle) << "the test thread itself was not run for longer than the timeout";
  ASSERT_TRUE(sync(c));
  EXPECT_FALSE(c.closed());
}

TEST(Wire03Errors, ConflictWhenTheSameFullJidBindsAgain) {
  // Two listeners, one client port: both connections get PORT@127.0.0.1/same.
  // One network thread, so that the server handles the older connection's
  // close before the newer one's ping (below).
  test_server server([](server_options& o) {
    o.config.listen = {"127.0.0.1:0", "127.0.0.1:0"};
    o.config.threads = 1;
  });
  // Both clients bind the port explicitly (SO_REUSEADDR) so they may share it.
  auto first = std::make_unique<raw_client>("127.0.0.1", server.port(0), raw_client::free_port());
  std::string jid = first->negotiate("same");
  raw_client second("127.0.0.1", server.port(1), first->local_port());
  EXPECT_EQ(second.negotiate("same"), jid);
  std::string got = first->read_to_close();
  EXPECT_NE(got.find(condition_element("conflict")), std::string::npos) << got;
  // Closing the older connection ends its session on the server at once.
  // Its end must not evict the newer session from the registry, nor mark
  // the device offline in the store.
  // The closing session keeps reading until the client goes (its linger), so
  // the close is seen at once; on the one network thread it is handled before
  // the ping sent after it. The ping then also proves the newer session
  // lives on.
  first.reset();
  ASSERT_TRUE(sync(second));
  EXPECT_FALSE(second.closed());
  EXPECT_EQ(server.get().online().online(), std::vector<std::string>{jid});
  server.get().writer().flush();
  auto db = open_store(*store_url::parse(server.store_url()));
  ASSERT_TRUE(db.has_value());
  auto devices = (*db)->devices(true);
  ASSERT_TRUE(devices.has_value());
  ASSERT_EQ(devices->size(), 1u);
  EXPECT_EQ(devices->front().jid, jid);
}

TEST(Wire03Errors, SystemShutdownOnStop) {
  test_server server;
  raw_client c("127.0.0.1", server.port());
  c.negotiate();
  c.send(report("last"));
  ASSERT_TRUE(sync(c));
  std::thread stopper([&] { server.stop(); });
  std::string got = c.read_to_close();
  stopper.join();
  EXPECT_NE(got.find(condition_element("system-shutdown")), std::string::npos) << got;
}

TEST(Wire03Errors, StanzaErrorsKeepTheStream) {
  test_server server;
  raw_client c("127.0.0.1", server.port());
  c.negotiate();
  c.send("<message to='iot.local' id='c1'><body>hello</body></message>");
  std::string got = c.read_until("</message>");
  EXPECT_NE(got.find("<service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"),
            std::string::npos)
      << got;
  ASSERT_TRUE(sync(c));
}

TEST(Wire03Errors, GarbageClientDoesNotDisturbOthers) {
  test_server server;
  raw_client good("127.0.0.1", server.port());
  good.negotiate("good");
  std::vector<std::unique_ptr<raw_client>> bad;
  for (int i = 0; i < 10; ++i) {
    bad.push_back(std::make_unique<raw_client>("127.0.0.1", server.port()));
    if (i % 2) bad.back()->negotiate("bad" + std::to_string(i));
    std::string junk;
    for (int j = 0; j < 500; ++j) junk += static_cast<char>((j * 7919 + i * 31) % 256);
    bad.back()->send(junk);
  }
  for (int i = 0; i < 20; ++i) good.send(report(std::string("g").append(std::to_string(i))));
  ASSERT_TRUE(sync(good));
  for (auto& b : bad) {
    std::string got = b->read_to_close();
    EXPECT_NE(got.find("<stream:error>"), std::string::npos) << got;
  }
  EXPECT_EQ(open_test_store(server)->count_reports().value(), 20u);
}

TEST(Wire03Errors, StaleDeviceIsReapedFromStoreAndDisconnected) {
  test_server server([](server_options& o) {
    o.config.stale_after = std::chrono::milliseconds(500);
    o.config.reap_every = std::chrono::milliseconds(200);
    o.config.touch_every = std::chrono::milliseconds(100);
  });
  raw_client c("127.0.0.1", server.port());
  std::string jid = c.negotiate();
  c.send(report("before-reap"));
  ASSERT_TRUE(sync(c));
  std::string got = c.read_to_close(std::chrono::seconds(5));
  EXPECT_NE(got.find(condition_element("connection-timeout")), std::string::npos) << got;
  auto db = open_test_store(server);
  EXPECT_TRUE(eventually([&] {
    auto d = db->devices(false);
    return d.has_value() && d->empty();
  })) << "the reaped device's row is still there";
  EXPECT_EQ(db->count_reports().value(), 1u) << "readings stay after reaping";
}

}  // namespace
}  // namespace iotxmpp::test
