// XEP-0198 resumption in the shared client core (PROTOCOL.md §3.5), against
// the real in-process server through a relay that cuts the TCP connection
// the way a NAT or a load balancer that forgets its flows does.

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <thread>

#include "core/client/blocking_client.hpp"
#include "core/client/client.hpp"
#include "support/tcp_proxy.hpp"
#include "support/test_server.hpp"
#include "wire/wire_fixture.hpp"

namespace iotxmpp {
namespace {

using namespace std::chrono_literals;
using test::test_server;

client_options options_for(unsigned short port) {
  client_options o;
  o.server.host = "127.0.0.1";
  o.server.port = port;
  o.connect_timeout = 5s;
  return o;
}

// Cuts the connection and waits until the client has seen it go.
void cut(test::tcp_proxy& relay, blocking_client& c) {
  ASSERT_GE(relay.drop_all(), 1u);
  ASSERT_EQ(c.run_until([&] { return !c.async().bound(); }, 10s),
            blocking_client::stop_reason::done);
}

TEST(ClientResume, ALostConnectionResumesTheSameStream) {
  test_server server;
  test::tcp_proxy relay(server.port());
  blocking_client c(options_for(relay.port()));
  ASSERT_TRUE(c.connect());
  ASSERT_TRUE(c.async().stream_management());
  EXPECT_FALSE(c.async().resumed());
  const std::string jid = c.async().address().to_string();
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(c.send(test::report("before-" + std::to_string(i))));
  ASSERT_TRUE(c.sync(10s));

  cut(relay, c);
  auto again = c.connect();
  ASSERT_TRUE(again) << again.error().message;
  const auto& resumed = c.async().resumed();
  ASSERT_TRUE(resumed);
  EXPECT_EQ(resumed->handled, 10u);  // the ten reports, all stored
  EXPECT_EQ(resumed->unacknowledged, 0u);
  EXPECT_EQ(c.async().address().to_string(), jid);
  // The stream goes on, its counts too.
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(c.send(test::report("after-" + std::to_string(i))));
  ASSERT_TRUE(c.sync(10s));
  EXPECT_EQ(c.async().stream_counts()->acked, 15u);
  EXPECT_EQ(test::open_test_store(server)->count_reports().value(), 15u);
  EXPECT_EQ(relay.accepted(), 2u);
  c.close();
}

TEST(ClientResume, WhatTheServerHadNotHandledIsToldToTheCaller) {
  test_server server;
  test::tcp_proxy relay(server.port());
  blocking_client c(options_for(relay.port()));
  ASSERT_TRUE(c.connect());
  // Written into a connection that is cut at once: some may reach the
  // server, some not; what the server handled is stored, and the rest is
  // what resumed() says to send again.
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(c.send(test::report("maybe-" + std::to_string(i))));
  cut(relay, c);
  ASSERT_TRUE(c.connect());
  const auto& resumed = c.async().resumed();
  ASSERT_TRUE(resumed);
  EXPECT_EQ(resumed->handled + resumed->unacknowledged, 50u);
  EXPECT_EQ(test::open_test_store(server)->count_reports().value(), resumed->handled);
}

TEST(ClientResume, AStreamTheServerNoLongerHasIsBoundAfresh) {
  test_server server([](server_options& o) { o.config.resume_window = 300ms; });
  test::tcp_proxy relay(server.port());
  blocking_client c(options_for(relay.port()));
  ASSERT_TRUE(c.connect());
  const std::string jid = c.async().address().to_string();
  cut(relay, c);
  std::this_thread::sleep_for(1500ms);  // past the window and the server's sweep
  auto again = c.connect();
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_FALSE(c.async().resumed());
  EXPECT_NE(c.async().address().to_string(), jid);  // a new PORT@IP
  EXPECT_TRUE(c.async().stream_management());       // and a new stream enabled
  ASSERT_TRUE(c.send(test::report("fresh")));
  ASSERT_TRUE(c.sync(10s));
}

TEST(ClientResume, AClosedStreamIsNotResumed) {
  test_server server;
  blocking_client c(options_for(server.port()));
  ASSERT_TRUE(c.connect());
  c.close();
  ASSERT_TRUE(c.connect());
  EXPECT_FALSE(c.async().resumed());
}

}  // namespace
}  // namespace iotxmpp
