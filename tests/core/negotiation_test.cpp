// Stream negotiation without sockets: header, SASL ANONYMOUS, restart, bind.

#include "core/xmpp/negotiation.hpp"

#include "core/sasl/base64.hpp"
#include "core/sasl/scram_credentials.hpp"

#include <gtest/gtest.h>

namespace iotxmpp {
namespace {

stream_header client_header(std::string to = "iot.local", std::string version = "1.0") {
  stream_header h;
  h.name = "stream:stream";
  h.attributes = {{"xmlns", "jabber:client"},
                  {"xmlns:stream", "http://etherx.jabber.org/streams"},
                  {"to", std::move(to)},
                  {"version", std::move(version)}};
  return h;
}

struct parsed {
  pugi::xml_document doc;
  pugi::xml_node node;
  explicit parsed(const char* xml) {
    EXPECT_TRUE(doc.load_string(xml));
    node = doc.first_child();
  }
};

TEST(Negotiation, FullAnonymousLoginGivesPortAtIpJid) {
  stream_policy cfg;
  negotiation n(cfg, "127.0.0.1", 4242);
  auto s1 = n.on_header(client_header());
  EXPECT_FALSE(s1.fatal);
  EXPECT_NE(s1.send.find("<stream:stream"), std::string::npos);
  EXPECT_NE(s1.send.find("<mechanism>ANONYMOUS</mechanism>"), std::string::npos);
  EXPECT_EQ(s1.send.find("PLAIN"), std::string::npos) << "PLAIN needs TLS";
  EXPECT_EQ(n.current(), negotiation::phase::auth);

  parsed auth("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='ANONYMOUS'/>");
  auto s2 = n.on_element(auth.node);
  EXPECT_TRUE(s2.restart);
  EXPECT_NE(s2.send.find("<success"), std::string::npos);

  auto s3 = n.on_header(client_header());
  EXPECT_NE(s3.send.find("urn:ietf:params:xml:ns:xmpp-bind"), std::string::npos);
  EXPECT_EQ(s3.send.find("ANONYMOUS"), std::string::npos);

  parsed bind(
      "<iq type='set' id='b'><bind "
      "xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>r</resource></bind></iq>");
  auto s4 = n.on_element(bind.node);
  ASSERT_TRUE(s4.bound);
  EXPECT_EQ(n.bound_jid().to_string(), "4242@127.0.0.1/r");
  EXPECT_NE(s4.send.find("<jid>4242@127.0.0.1/r</jid>"), std::string::npos) << s4.send;
  EXPECT_EQ(n.current(), negotiation::phase::bound);
}

TEST(Negotiation, Ipv6AddressIsBracketed) {
  stream_policy cfg;
  negotiation n(cfg, "::1", 7);
  n.on_header(client_header());
  parsed auth("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='ANONYMOUS'/>");
  n.on_element(auth.node);
  n.on_header(client_header());
  parsed bind(
      "<iq type='set' id='b'><bind "
      "xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>x</resource></bind></iq>");
  ASSERT_TRUE(n.on_element(bind.node).bound);
  EXPECT_EQ(n.bound_jid().to_string(), "7@[::1]/x");
}

TEST(Negotiation, StanzaBeforeBindIsNotAuthorized) {
  stream_policy cfg;
  negotiation n(cfg, "127.0.0.1", 1);
  n.on_header(client_header());
  parsed msg("<message to='iot.local'><body>hi</body></message>");
  auto s = n.on_element(msg.node);
  ASSERT_TRUE(s.fatal);
  EXPECT_EQ(*s.fatal, stream_condition::not_authorized);
}

TEST(Negotiation, HeaderChecks) {
  stream_policy cfg;
  {
    negotiation n(cfg, "127.0.0.1", 1);
    auto s = n.on_header(client_header("other.example"));
    ASSERT_TRUE(s.fatal);
    EXPECT_EQ(*s.fatal, stream_condition::host_unknown);
    EXPECT_NE(s.send.find("<stream:stream"), std::string::npos) << "our header goes first";
  }
  {
    negotiation n(cfg, "127.0.0.1", 1);
    auto s = n.on_header(client_header("iot.local", "0.9"));
    ASSERT_TRUE(s.fatal);
    EXPECT_EQ(*s.fatal, stream_condition::unsupported_version);
  }
}

TEST(Negotiation, UnknownMechanismAndAbortFailWithoutClosing) {
  stream_policy cfg;
  negotiation n(cfg, "127.0.0.1", 1);
  n.on_header(client_header());
  parsed unknown(
      "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='X-FOO'>AGEAYg==</auth>");
  auto s = n.on_element(unknown.node);
  EXPECT_FALSE(s.fatal);
  EXPECT_NE(s.send.find("<invalid-mechanism/>"), std::string::npos);
  // PLAIN is not for a stream in the clear.
  parsed plain("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGEAYg==</auth>");
  s = n.on_element(plain.node);
  EXPECT_FALSE(s.fatal);
  EXPECT_NE(s.send.find("<encryption-required/>"), std::string::npos);
  parsed abort("<abort xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
  EXPECT_NE(n.on_element(abort.node).send.find("<aborted/>"), std::string::npos);
  EXPECT_EQ(n.current(), negotiation::phase::auth);
}

TEST(Negotiation, StarttlsRequiredOffersOnlyStarttlsThenProceeds) {
  stream_policy cfg;
  cfg.tls_offered = cfg.tls_required = true;
  negotiation n(cfg, "127.0.0.1", 1);
  auto h = n.on_header(client_header());
  EXPECT_NE(h.send.find("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>"),
            std::string::npos);
  EXPECT_EQ(h.send.find("<mechanisms"), std::string::npos);
  parsed starttls("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
  auto s = n.on_element(starttls.node);
  EXPECT_EQ(s.send, "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
  EXPECT_TRUE(s.start_tls);
  EXPECT_TRUE(s.restart);
  n.set_secure({"tls-exporter", std::string(32, 'x')});
  h = n.on_header(client_header());
  EXPECT_EQ(h.send.find("starttls"), std::string::npos);
  EXPECT_NE(h.send.find("<mechanism>SCRAM-SHA-256-PLUS</mechanism>"), std::string::npos);
  EXPECT_NE(h.send.find("<mechanism>PLAIN</mechanism>"), std::string::npos);
  // A second STARTTLS is refused.
  EXPECT_TRUE(n.on_element(starttls.node).fatal);
}

TEST(Negotiation, PlainAsksForTheAccountThenSucceedsAndBindsItsJid) {
  stream_policy cfg;
  negotiation n(cfg, "127.0.0.1", 1);
  n.set_secure({});
  n.on_header(client_header());
  const std::string auth = "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>" +
                           base64_encode(std::string("\0dev7\0pw", 8)) + "</auth>";
  parsed plain(auth.c_str());
  auto s = n.on_element(plain.node);
  ASSERT_TRUE(s.lookup.has_value());
  EXPECT_EQ(*s.lookup, "dev7");
  EXPECT_TRUE(s.send.empty());
  login_keys keys;
  keys.state = login_keys::status::found;
  keys.keys.push_back(derive_scram_keys(scram_hash::sha256, "pw", "salt", 4096));
  s = n.on_keys(keys);
  EXPECT_NE(s.send.find("<success"), std::string::npos) << s.send;
  EXPECT_TRUE(s.restart);
  EXPECT_EQ(n.account(), "dev7");
  n.on_header(client_header());
  parsed bind(
      "<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
      "<resource>r</resource></bind></iq>");
  s = n.on_element(bind.node);
  EXPECT_TRUE(s.bound);
  EXPECT_EQ(n.bound_jid().to_string(), "dev7@iot.local/r");
}

TEST(Negotiation, StoreDownIsTemporaryAuthFailure) {
  stream_policy cfg;
  negotiation n(cfg, "127.0.0.1", 1);
  n.set_secure({});
  n.on_header(client_header());
  const std::string auth = "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>" +
                           base64_encode(std::string("\0dev7\0pw", 8)) + "</auth>";
  parsed plain(auth.c_str());
  ASSERT_TRUE(n.on_element(plain.node).lookup);
  login_keys down;
  down.state = login_keys::status::unavailable;
  auto s = n.on_keys(down);
  EXPECT_NE(s.send.find("<temporary-auth-failure/>"), std::string::npos) << s.send;
  EXPECT_FALSE(s.fatal);
  EXPECT_EQ(n.current(), negotiation::phase::auth);
}

TEST(Negotiation, BadResourceIsBadRequest) {
  stream_policy cfg;
  negotiation n(cfg, "127.0.0.1", 1);
  n.on_header(client_header());
  parsed auth("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='ANONYMOUS'/>");
  n.on_element(auth.node);
  n.on_header(client_header());
  std::string big =
      "<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>" +
      std::string(1100, 'r') + "</resource></bind></iq>";
  parsed bind(big.c_str());
  auto s = n.on_element(bind.node);
  EXPECT_FALSE(s.bound);
  EXPECT_NE(s.send.find("<bad-request"), std::string::npos) << s.send;
}

}  // namespace
}  // namespace iotxmpp
