// 01: stream negotiation over a real socket (PROTOCOL.md §1-2).

#include "wire/wire_fixture.hpp"

namespace iotxmpp::test {
namespace {

TEST(Wire01Negotiation, HeaderFeaturesAuthRestartBind) {
  test_server server;
  raw_client c("127.0.0.1", server.port());
  c.send(raw_client::header());
  std::string first = c.read_until("</stream:features>");
  EXPECT_NE(first.find("<stream:stream"), std::string::npos) << first;
  EXPECT_NE(first.find("from='iot.local'"), std::string::npos) << first;
  EXPECT_NE(first.find("version='1.0'"), std::string::npos) << first;
  EXPECT_NE(first.find(" id='"), std::string::npos) << first;
  EXPECT_NE(first.find("<mechanism>ANONYMOUS</mechanism>"), std::string::npos) << first;
  EXPECT_NE(first.find("<max-bytes>65536</max-bytes>"), std::string::npos) << first;
  EXPECT_NE(first.find("<idle-seconds>300</idle-seconds>"), std::string::npos) << first;

  c.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='ANONYMOUS'/>");
  EXPECT_NE(c.read_until("/>").find("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'"),
            std::string::npos);
  c.send(raw_client::header());
  std::string second = c.read_until("</stream:features>");
  EXPECT_NE(second.find("<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"), std::string::npos)
      << second;
  EXPECT_NE(second.find("<limits xmlns='urn:xmpp:stream-limits:0'>"), std::string::npos) << second;

  c.send(
      "<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
      "<resource>sensor</resource></bind></iq>");
  std::string bound = c.read_until("</iq>");
  std::string expected_jid = std::to_string(c.local_port()) + "@127.0.0.1/sensor";
  EXPECT_NE(bound.find("id='b1'"), std::string::npos) << bound;
  EXPECT_NE(bound.find("<jid>" + expected_jid + "</jid>"), std::string::npos) << bound;
}

TEST(Wire01Negotiation, ServerMakesResourceWhenNoneAsked) {
  test_server server;
  raw_client c("127.0.0.1", server.port());
  std::string jid = c.negotiate("");
  std::string prefix = std::to_string(c.local_port()) + "@127.0.0.1/";
  ASSERT_EQ(jid.rfind(prefix, 0), 0u) << jid;
  EXPECT_GT(jid.size(), prefix.size());
}

TEST(Wire01Negotiation, DoubleQuotesNoDeclarationAndSplitBytes) {
  test_server server;
  raw_client c("127.0.0.1", server.port());
  std::string open =
      "<stream:stream xmlns=\"jabber:client\" xmlns:stream=\"http://etherx.jabber.org/streams\" "
      "to=\"iot.local\" version=\"1.0\">";
  for (char ch : open) c.send(std::string(1, ch));  // one byte per TCP segment
  EXPECT_NE(c.read_until("</stream:features>").find("ANONYMOUS"), std::string::npos);
}

TEST(Wire01Negotiation, IPv6ClientGetsBracketedAddressJid) {
  test_server server([](server_options& o) { o.config.listen = {"[::1]:0"}; });
  std::unique_ptr<raw_client> c;
  try {
    c = std::make_unique<raw_client>("::1", server.port());
  } catch (const std::exception& e) {
    GTEST_SKIP() << "no IPv6 loopback here: " << e.what();
  }
  std::string jid = c->negotiate("r");
  EXPECT_EQ(jid, std::to_string(c->local_port()) + "@[::1]/r");
}

TEST(Wire01Negotiation, UnknownMechanismFailsAndStreamStays) {
  test_server server;
  raw_client c("127.0.0.1", server.port());
  c.send(raw_client::header());
  std::string features = c.read_until("</stream:features>");
  ASSERT_NE(features.find("<mechanisms"), std::string::npos) << features;
  // A name no SASL registry holds, so that it stays unknown whatever
  // mechanisms the server learns (SCRAM-SHA-1 served here once, until it
  // became a real one).
  ASSERT_EQ(features.find("X-UNKNOWN"), std::string::npos) << features;
  c.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='X-UNKNOWN'/>");
  EXPECT_NE(c.read_until("</failure>").find("<invalid-mechanism/>"), std::string::npos);
  c.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='ANONYMOUS'/>");
  EXPECT_NE(c.read_until("/>").find("<success"), std::string::npos);
}

TEST(Wire01Negotiation, WrongDomainIsHostUnknown) {
  test_server server;
  raw_client c("127.0.0.1", server.port());
  c.send(raw_client::header("elsewhere.example"));
  std::string got = c.read_to_close();
  EXPECT_NE(got.find("<host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"),
            std::string::npos)
      << got;
  EXPECT_TRUE(c.closed());
}

}  // namespace
}  // namespace iotxmpp::test
