// Device security on the wire (PROTOCOL.md §1-2): STARTTLS required with a
// certificate, direct TLS, every SASL mechanism's success and failure, room
// grants, the anonymous policy, and account changes that end live sessions.
// A real server on loopback, a raw client that speaks TLS through OpenSSL,
// and a private CA (support/test_pki).

#include <gtest/gtest.h>

#include <thread>

#include "core/sasl/base64.hpp"
#include "support/test_pki.hpp"
#include "wire/wire_fixture.hpp"

namespace iotxmpp::test {
namespace {

constexpr const char* sasl_ns = "urn:ietf:params:xml:ns:xmpp-sasl";

class Security : public ::testing::Test {
 protected:
  test_pki pki;

  std::unique_ptr<test_server> start(bool tls, std::function<void(server_options&)> more = {}) {
    return std::make_unique<test_server>([&](server_options& o) {
      if (tls) {
        o.config.tls_cert = pki.server_cert();
        o.config.tls_key = pki.server_key();
        o.config.listen_tls = {"127.0.0.1:0"};
      }
      o.config.account_poll = std::chrono::milliseconds(100);
      if (more) more(o);
    });
  }

  // Connects with STARTTLS (the CA verified) and returns the features after TLS.
  static std::string starttls(raw_client& c, const std::string& ca, bool tls12 = false) {
    c.send(raw_client::header());
    std::string f = c.read_until("</stream:features>");
    EXPECT_NE(f.find("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>"),
              std::string::npos)
        << f;
    c.send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    EXPECT_NE(c.read_until("/>").find("<proceed"), std::string::npos);
    c.start_tls({.ca_file = ca, .tls12_only = tls12});
    c.send(raw_client::header());
    return c.read_until("</stream:features>");
  }
};

TEST_F(Security, WithoutCertificateScramAndAnonymousAreOfferedButNotPlainOrStarttls) {
  auto s = start(false);
  raw_client c("127.0.0.1", s->port());
  c.send(raw_client::header());
  std::string f = c.read_until("</stream:features>");
  EXPECT_NE(f.find("<mechanism>SCRAM-SHA-256</mechanism><mechanism>SCRAM-SHA-1</mechanism>"
                   "<mechanism>ANONYMOUS</mechanism>"),
            std::string::npos)
      << f;
  EXPECT_EQ(f.find("PLAIN"), std::string::npos) << f;
  EXPECT_EQ(f.find("-PLUS"), std::string::npos) << f;
  EXPECT_EQ(f.find("starttls"), std::string::npos) << f;
  c.send(std::string("<auth xmlns='") + sasl_ns + "' mechanism='PLAIN'>" +
         base64_encode(std::string("\0dev1\0pw", 8)) + "</auth>");
  EXPECT_NE(c.read_until("</failure>").find("<encryption-required/>"), std::string::npos);
}

TEST_F(Security, StarttlsIsRequiredAndNothingElseWorksBeforeIt) {
  auto s = start(true);
  {
    raw_client c("127.0.0.1", s->port());
    c.send(raw_client::header());
    std::string f = c.read_until("</stream:features>");
    EXPECT_EQ(f.find("<mechanisms"), std::string::npos) << "only STARTTLS before TLS: " << f;
    c.send(std::string("<auth xmlns='") + sasl_ns + "' mechanism='ANONYMOUS'/>");
    EXPECT_NE(c.read_until("</failure>").find("<encryption-required/>"), std::string::npos);
  }
  {
    raw_client c("127.0.0.1", s->port());
    c.send(raw_client::header());
    c.read_until("</stream:features>");
    c.send(report("r1"));
    std::string got = c.read_to_close();
    EXPECT_NE(got.find("<not-authorized"), std::string::npos) << got;
  }
}

TEST_F(Security, StarttlsThenScramSha256AsAnAccountReportsForItsRoomsOnly) {
  auto s = start(true);
  add_device(*s, "dev1", "s3cret-pw", {"kitchen", "lab-*"});
  raw_client c("127.0.0.1", s->port());
  std::string f = starttls(c, pki.ca_cert());
  ASSERT_TRUE(c.tls_1_3());
  EXPECT_NE(f.find("<mechanism>SCRAM-SHA-256-PLUS</mechanism>"), std::string::npos) << f;
  EXPECT_NE(f.find("<mechanism>PLAIN</mechanism>"), std::string::npos) << f;
  EXPECT_EQ(f.find("starttls"), std::string::npos) << f;
  std::string r = c.authenticate("SCRAM-SHA-256", "dev1", "s3cret-pw");
  ASSERT_NE(r.find("<success"), std::string::npos) << r;
  EXPECT_EQ(c.bind_after_auth("sensor"), "dev1@iot.local/sensor");
  c.send(report("ok1", "kitchen"));
  c.send(report("ok2", "lab-3"));
  c.send(report("no1", "cellar"));
  std::string err = c.read_until("</message>");
  EXPECT_NE(err.find("id='no1'"), std::string::npos) << err;
  EXPECT_NE(err.find("<forbidden"), std::string::npos) << err;
  c.send(
      "<iq type='get' id='rec' to='iot.local'><recommend xmlns='urn:iotxmpp:recommend:0' "
      "room='cellar'/></iq>");
  EXPECT_NE(c.read_until("</iq>").find("<forbidden"), std::string::npos);
  ASSERT_TRUE(sync(c));
  auto db = open_test_store(*s);
  EXPECT_EQ(db->count_reports().value(), 2u);
  auto a = db->find_account("dev1");
  ASSERT_TRUE(a && *a);
  // The login is recorded once the writer commits it.
  for (int i = 0; i < 50 && !(*db->find_account("dev1"))->last_login; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_TRUE((*db->find_account("dev1"))->last_login.has_value());
}

TEST_F(Security, EveryScramVariantLogsInOverTls13AndTls12) {
  auto s = start(true);
  add_device(*s, "dev1", "pw-1234", {"*"});
  for (bool tls12 : {false, true}) {
    for (const char* mech :
         {"SCRAM-SHA-256", "SCRAM-SHA-1", "SCRAM-SHA-256-PLUS", "SCRAM-SHA-1-PLUS"}) {
      raw_client c("127.0.0.1", s->port());
      starttls(c, pki.ca_cert(), tls12);
      EXPECT_EQ(c.binding().type, tls12 ? "tls-server-end-point" : "tls-exporter");
      std::string r = c.authenticate(mech, "dev1", "pw-1234");
      EXPECT_NE(r.find("<success"), std::string::npos) << mech << " tls1.2=" << tls12 << ": " << r;
    }
  }
}

TEST_F(Security, DirectTlsListenerHasNoStarttlsAndTakesPlain) {
  auto s = start(true);
  add_device(*s, "dev2", "plain-pw", {"kitchen"});
  raw_client c("127.0.0.1", s->port(1));
  c.start_tls({.ca_file = pki.ca_cert()});
  c.send(raw_client::header());
  std::string f = c.read_until("</stream:features>");
  EXPECT_EQ(f.find("starttls"), std::string::npos) << f;
  EXPECT_NE(f.find("<mechanism>PLAIN</mechanism>"), std::string::npos) << f;
  std::string r = c.authenticate("PLAIN", "dev2", "plain-pw");
  ASSERT_NE(r.find("<success"), std::string::npos) << r;
  EXPECT_EQ(c.bind_after_auth("x"), "dev2@iot.local/x");
}

TEST_F(Security, WrongPasswordUnknownUserAndDisabledAccountsFail) {
  auto s = start(true);
  add_device(*s, "dev1", "right", {"*"});
  add_device(*s, "off", "right", {"*"}, true);
  struct attempt {
    const char* mech;
    const char* user;
    const char* password;
    const char* condition;
  };
  for (auto a : {attempt{"SCRAM-SHA-256", "dev1", "wrong", "<not-authorized/>"},
                 attempt{"SCRAM-SHA-1", "nobody", "right", "<not-authorized/>"},
                 attempt{"PLAIN", "dev1", "wrong", "<not-authorized/>"},
                 attempt{"PLAIN", "nobody", "right", "<not-authorized/>"},
                 attempt{"SCRAM-SHA-256", "off", "right", "<account-disabled/>"},
                 attempt{"PLAIN", "off", "right", "<account-disabled/>"}}) {
    raw_client c("127.0.0.1", s->port());
    starttls(c, pki.ca_cert());
    std::string r = c.authenticate(a.mech, a.user, a.password);
    EXPECT_NE(r.find(a.condition), std::string::npos) << a.mech << " " << a.user << ": " << r;
  }
}

TEST_F(Security, ThreeFailuresCloseTheStream) {
  auto s = start(true);
  add_device(*s, "dev1", "right", {"*"});
  raw_client c("127.0.0.1", s->port());
  starttls(c, pki.ca_cert());
  for (int i = 0; i < 2; ++i)
    EXPECT_NE(c.authenticate("SCRAM-SHA-256", "dev1", "wrong").find("<not-authorized/>"),
              std::string::npos);
  c.authenticate("PLAIN", "dev1", "wrong");
  std::string rest = c.read_to_close();
  EXPECT_NE(rest.find("<stream:error><not-authorized"), std::string::npos) << rest;
  EXPECT_TRUE(c.closed());
}

TEST_F(Security, MalformedSaslMessagesGetTheirConditions) {
  auto s = start(true);
  add_device(*s, "dev1", "right", {"*"});
  struct bad {
    std::string mech;
    std::string payload;  // already base64, or not
    const char* condition;
  };
  for (const auto& b :
       {bad{"SCRAM-SHA-256", "%%%not-base64", "<incorrect-encoding/>"},
        bad{"SCRAM-SHA-256", base64_encode("garbage"), "<malformed-request/>"},
        bad{"SCRAM-SHA-256", base64_encode("n,,n=dev1"), "<malformed-request/>"},
        bad{"SCRAM-SHA-256", base64_encode("p=tls-unique,,n=dev1,r=abc"), "<not-authorized/>"},
        bad{"PLAIN", base64_encode("no-nul-here"), "<malformed-request/>"},
        bad{"DIGEST-MD5", "", "<invalid-mechanism/>"},
        bad{"X-UNKNOWN", "", "<invalid-mechanism/>"}}) {
    raw_client c("127.0.0.1", s->port());
    starttls(c, pki.ca_cert());
    c.send("<auth xmlns='" + std::string(sasl_ns) + "' mechanism='" + b.mech + "'>" + b.payload +
           "</auth>");
    std::string r = c.read_until("</failure>");
    EXPECT_NE(r.find(b.condition), std::string::npos) << b.mech << " " << b.payload << ": " << r;
  }
  // A client-final with another nonce (a replayed or forged one).
  raw_client c("127.0.0.1", s->port());
  starttls(c, pki.ca_cert());
  c.send("<auth xmlns='" + std::string(sasl_ns) + "' mechanism='SCRAM-SHA-256'>" +
         base64_encode("n,,n=dev1,r=clientnonce") + "</auth>");
  ASSERT_NE(c.read_until("</challenge>").find("<challenge"), std::string::npos);
  c.send("<response xmlns='" + std::string(sasl_ns) + "'>" +
         base64_encode("c=biws,r=clientnonceOTHER,p=" + base64_encode(std::string(32, 'x'))) +
         "</response>");
  EXPECT_NE(c.read_until("</failure>").find("<not-authorized/>"), std::string::npos);
}

TEST_F(Security, AnonymousNoStopsOfferingIt) {
  auto s = start(false, [](server_options& o) { o.config.anonymous = false; });
  raw_client c("127.0.0.1", s->port());
  c.send(raw_client::header());
  std::string f = c.read_until("</stream:features>");
  EXPECT_EQ(f.find("ANONYMOUS"), std::string::npos) << f;
  c.send(std::string("<auth xmlns='") + sasl_ns + "' mechanism='ANONYMOUS'/>");
  EXPECT_NE(c.read_until("</failure>").find("<invalid-mechanism/>"), std::string::npos);
}

TEST_F(Security, AnonymousDevicesStillReportForAnyRoomAfterStarttls) {
  auto s = start(true);
  raw_client c("127.0.0.1", s->port());
  starttls(c, pki.ca_cert());
  c.send(std::string("<auth xmlns='") + sasl_ns + "' mechanism='ANONYMOUS'/>");
  ASSERT_NE(c.read_until("/>").find("<success"), std::string::npos);
  std::string jid = c.bind_after_auth("anon");
  EXPECT_NE(jid.find("@127.0.0.1/anon"), std::string::npos) << jid;
  c.send(report("a1", "anywhere"));
  ASSERT_TRUE(sync(c));
  EXPECT_EQ(open_test_store(*s)->count_reports().value(), 1u);
}

TEST_F(Security, DisablingOrRemovingAnAccountEndsItsLiveSessions) {
  auto s = start(true);
  add_device(*s, "dev1", "pw", {"*"});
  add_device(*s, "dev2", "pw", {"*"});
  raw_client one("127.0.0.1", s->port(1));
  one.start_tls({.ca_file = pki.ca_cert()});
  one.send(raw_client::header());
  one.read_until("</stream:features>");
  ASSERT_NE(one.authenticate("SCRAM-SHA-256", "dev1", "pw").find("<success"), std::string::npos);
  one.bind_after_auth("a");
  raw_client two("127.0.0.1", s->port(1));
  two.start_tls({.ca_file = pki.ca_cert()});
  two.send(raw_client::header());
  two.read_until("</stream:features>");
  ASSERT_NE(two.authenticate("SCRAM-SHA-256", "dev2", "pw").find("<success"), std::string::npos);
  two.bind_after_auth("b");

  auto db = open_test_store(*s);
  ASSERT_TRUE(db->set_account_disabled("dev1", true).value());
  std::string got = one.read_to_close(std::chrono::seconds(5));
  EXPECT_NE(got.find("<not-authorized"), std::string::npos) << got;
  EXPECT_NE(got.find("account disabled"), std::string::npos) << got;
  // The other account's session goes on.
  ASSERT_TRUE(sync(two));
  ASSERT_TRUE(db->remove_account("dev2").value());
  got = two.read_to_close(std::chrono::seconds(5));
  EXPECT_NE(got.find("account removed"), std::string::npos) << got;
}

TEST_F(Security, GarbageAndStalledHandshakesDoNotDisturbOthers) {
  auto s = start(true, [](server_options& o) {
    o.config.negotiation_timeout = std::chrono::milliseconds(500);
  });
  raw_client good("127.0.0.1", s->port());
  starttls(good, pki.ca_cert());
  good.send(std::string("<auth xmlns='") + sasl_ns + "' mechanism='ANONYMOUS'/>");
  ASSERT_NE(good.read_until("/>").find("<success"), std::string::npos);
  good.bind_after_auth("g");

  raw_client garbage("127.0.0.1", s->port(1));
  garbage.send(std::string(600, 'G'));  // not a TLS record
  garbage.read_to_close(std::chrono::seconds(3));
  EXPECT_TRUE(garbage.closed());

  raw_client stalled("127.0.0.1", s->port(1));  // never says hello
  stalled.read_to_close(std::chrono::seconds(6));
  EXPECT_TRUE(stalled.closed()) << "the negotiation timeout covers the handshake";

  raw_client cleartext_after("127.0.0.1", s->port());
  cleartext_after.send(raw_client::header());
  cleartext_after.read_until("</stream:features>");
  cleartext_after.send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/><presence/>");
  std::string got = cleartext_after.read_to_close(std::chrono::seconds(3));
  EXPECT_NE(got.find("<policy-violation"), std::string::npos) << got;

  good.send(report("still", "kitchen"));
  ASSERT_TRUE(sync(good));
  EXPECT_EQ(open_test_store(*s)->count_reports().value(), 1u);
}

}  // namespace
}  // namespace iotxmpp::test
