// The async client over TLS against an in-process server with the test CA's
// certificate: STARTTLS and direct TLS, many stanzas through the shared read
// buffer, reconnecting over a fresh TLS stream, and the errors of each step.

#include <gtest/gtest.h>

#include <chrono>

#include "core/base/clock.hpp"
#include "core/client/blocking_client.hpp"
#include "core/client/queries.hpp"
#include "support/test_pki.hpp"
#include "wire/wire_fixture.hpp"

namespace iotxmpp {
namespace {

using namespace std::chrono_literals;
using test::test_pki;
using test::test_server;

struct tls_server {
  test_pki pki;
  test_server server{[this](server_options& o) {
    o.config.tls_cert = pki.server_cert();
    o.config.tls_key = pki.server_key();
    o.config.listen_tls = {"127.0.0.1:0"};
  }};
  tls_server() { test::add_device(server, "probe", "pw", {"lab-*"}); }

  client_options options(bool direct) const {
    client_options o;
    o.server.host = "127.0.0.1";
    o.server.port = server.port(direct ? 1 : 0);
    o.connect_timeout = 5s;
    o.tls_ca = pki.ca_cert();
    o.tls = direct ? client_options::tls_mode::direct : client_options::tls_mode::starttls_required;
    return o;
  }
};

std::string report(std::string_view room, int n) {
  status_report r;
  r.room = room;
  auto now = clock::wall_now();
  r.taken_at = local_time{now, 0};
  r.values.push_back({"temperature", 20.0 + n % 5, "°C"});
  return status_message(r, "iot.local", "t-" + std::to_string(n), 1);
}

TEST(ClientTls, LogsInOverBothKindsOfTlsAndCarriesManyStanzas) {
  tls_server t;
  for (bool direct : {false, true}) {
    SCOPED_TRACE(direct ? "direct TLS" : "STARTTLS");
    auto o = t.options(direct);
    o.user = "probe";
    o.password = "pw";
    blocking_client c(o);
    auto up = c.connect();
    ASSERT_TRUE(up) << up.error().message;
    EXPECT_EQ(c.async().address().local(), "probe");
    EXPECT_EQ(c.async().address().domain(), "iot.local");
    // More than one TLS record and more than the shared read buffer, both ways.
    std::string burst;
    for (int i = 0; i < 400; ++i) burst += report("lab-1", i);
    ASSERT_GT(burst.size(), 64u * 1024);
    ASSERT_TRUE(c.send(burst));
    auto synced = c.sync(10s);
    ASSERT_TRUE(synced) << synced.error().message;
    for (int i = 0; i < 50; ++i) {
      auto pong = c.iq(ping_request("iot.local"), 5s);
      ASSERT_TRUE(pong) << pong.error().message;
    }
    c.close();
    EXPECT_FALSE(c.async().active());

    // Again on the same client: a new socket and a new TLS stream.
    up = c.connect();
    ASSERT_TRUE(up) << up.error().message;
    ASSERT_TRUE(c.sync(5s));
    c.close();
  }
}

TEST(ClientTls, HandshakeAndLoginErrorsSayWhat) {
  tls_server t;
  test_pki stranger;
  auto o = t.options(false);
  o.tls_ca = stranger.ca_cert();
  blocking_client untrusted(o);
  auto r = untrusted.connect();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, error_kind::connect);
  EXPECT_NE(r.error().message.find("certificate verify failed"), std::string::npos)
      << r.error().message;

  o = t.options(true);
  o.tls_ca = t.pki.dir() + "/no-such-ca.pem";
  blocking_client no_ca(o);
  r = no_ca.connect();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, error_kind::usage) << r.error().message;

  o = t.options(true);
  o.user = "probe";
  o.password = "not-pw";
  blocking_client wrong(o);
  r = wrong.connect();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, error_kind::remote);
  EXPECT_EQ(r.error().condition, "not-authorized");
  EXPECT_EQ(r.error().message, "authentication failed: not-authorized");

  o = t.options(false);
  o.tls = client_options::tls_mode::starttls_if_offered;
  o.tls_ca.clear();
  o.tls_insecure = true;
  blocking_client insecure(o);
  r = insecure.connect();
  EXPECT_TRUE(r) << r.error().message;
}

}  // namespace
}  // namespace iotxmpp
