// The client's negotiation state machine, without sockets: against the
// server's own negotiation through two framers, and against canned answers.

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <optional>
#include <variant>
#include <vector>

#include "core/sasl/base64.hpp"
#include "core/sasl/scram.hpp"
#include "core/xml/stream_framer.hpp"
#include "core/xmpp/client_negotiation.hpp"
#include "core/xmpp/negotiation.hpp"
#include "core/xmpp/remote_error.hpp"

namespace iotxmpp {
namespace {

// Feeds `bytes` through `framer`, calling `on_header`/`on_element` per event;
// a handler returns true when the framer must expect a new stream header.
void pump(stream_framer& framer, std::string& bytes, const std::function<bool()>& on_header,
          const std::function<bool(pugi::xml_node)>& on_element) {
  std::string_view data(bytes);
  while (!data.empty()) {
    auto o = framer.feed(data);
    data.remove_prefix(o.consumed);
    bool restart = false;
    if (o.what == stream_framer::status::stream_open) restart = on_header();
    if (o.what == stream_framer::status::element) restart = on_element(framer.element());
    ASSERT_NE(o.what, stream_framer::status::error) << framer.error_text();
    if (restart) framer.reset();
  }
  bytes.clear();
}

TEST(ClientNegotiation, BindsAgainstTheServersNegotiation) {
  stream_policy config;
  negotiation server(config, "127.0.0.1", 4242);
  client_negotiation client("iot.local", "dev");
  stream_framer at_server, at_client;
  std::string c2s = client.opening(), s2c;
  bool bound = false;
  for (int round = 0; round < 10 && !bound; ++round) {
    pump(
        at_server, c2s,
        [&] {
          auto s = server.on_header(at_server.header());
          s2c += s.send;
          return s.restart;
        },
        [&](pugi::xml_node e) {
          auto s = server.on_element(e);
          EXPECT_FALSE(s.fatal) << s.fatal_text;
          s2c += s.send;
          return s.restart;
        });
    pump(
        at_client, s2c,
        [&] {
          auto s = client.on_header(at_client.header());
          EXPECT_FALSE(s.failure);
          return false;
        },
        [&](pugi::xml_node e) {
          auto s = client.on_element(e);
          EXPECT_FALSE(s.failure) << s.failure->message;
          c2s += s.send;
          bound = bound || s.bound;
          return s.restart;
        });
  }
  ASSERT_TRUE(bound);
  EXPECT_EQ(client.current(), client_negotiation::phase::bound);
  EXPECT_EQ(client.bound_jid().to_string(), "4242@127.0.0.1/dev");
  EXPECT_EQ(client.bound_jid(), server.bound_jid());
}

// Runs `client` through a canned server header and the given elements; the
// failure of the last step, if any.
std::optional<error> last_failure(client_negotiation& client,
                                  const std::vector<const char*>& elements) {
  stream_header header;
  header.attributes = {{"version", "1.0"}};
  auto s = client.on_header(header);
  if (s.failure) return s.failure;
  for (const char* text : elements) {
    pugi::xml_document doc;
    doc.load_string(text);
    s = client.on_element(doc.document_element());
    if (s.failure) return s.failure;
    if (s.restart) client.on_header(header);
  }
  return std::nullopt;
}

constexpr const char* anonymous =
    "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>ANONYMOUS"
    "</mechanism></mechanisms></stream:features>";
constexpr const char* success = "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>";
constexpr const char* bind_offered =
    "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>";

TEST(ClientNegotiation, FailuresSayWhy) {
  struct failing {
    std::vector<const char*> server_says;
    error_kind kind;
    std::string condition;
  };
  const std::vector<failing> cases{
      {{"<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
        "<mechanism>PLAIN</mechanism></mechanisms></stream:features>"},
       error_kind::remote,
       ""},
      {{anonymous,
        "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/>"
        "<text>no</text></failure>"},
       error_kind::remote,
       "not-authorized"},
      {{anonymous, success, bind_offered,
        "<iq type='error' id='bind'><error type='modify'><bad-request "
        "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"},
       error_kind::remote,
       "bad-request"},
      {{anonymous, success, bind_offered,
        "<iq type='result' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
        "<jid>no-resource@host</jid></bind></iq>"},
       error_kind::protocol,
       ""},
      {{"<message/>"}, error_kind::protocol, ""},
  };
  for (const auto& c : cases) {
    client_negotiation client("iot.local", "r");
    auto e = last_failure(client, c.server_says);
    ASSERT_TRUE(e) << c.server_says.back();
    EXPECT_EQ(e->kind, c.kind) << e->message;
    EXPECT_EQ(e->condition, c.condition) << e->message;
  }
  client_negotiation old("iot.local", "r");
  EXPECT_TRUE(old.on_header(stream_header{}).failure) << "no version='1.0'";
}

TEST(ClientNegotiation, RequestsTheResourceOnlyWhenGiven) {
  stream_header header;
  header.attributes = {{"version", "1.0"}};
  pugi::xml_document doc;
  doc.load_string(bind_offered);
  client_negotiation fresh("iot.local", "kitchen-1");
  fresh.on_header(header);
  pugi::xml_document f1, f2;
  f1.load_string(anonymous);
  f2.load_string(success);
  EXPECT_NE(fresh.on_element(f1.document_element()).send.find("mechanism='ANONYMOUS'"),
            std::string::npos);
  auto restart = fresh.on_element(f2.document_element());
  EXPECT_TRUE(restart.restart);
  EXPECT_EQ(restart.send, fresh.opening());
  fresh.on_header(header);
  auto bind = fresh.on_element(doc.document_element());
  EXPECT_NE(bind.send.find("<resource>kitchen-1</resource>"), std::string::npos) << bind.send;

  client_negotiation anonymous_resource("iot.local", "");
  auto e = last_failure(anonymous_resource, {anonymous, success});
  EXPECT_FALSE(e);
  auto no_resource = anonymous_resource.on_element(doc.document_element());
  EXPECT_EQ(no_resource.send.find("<resource>"), std::string::npos) << no_resource.send;
}

// --- TLS and SASL -----------------------------------------------------------

constexpr const char* sasl_ns = "urn:ietf:params:xml:ns:xmpp-sasl";

// Drives one client_negotiation with server XML, one element at a time.
struct driver {
  client_negotiation client;
  std::vector<std::unique_ptr<pugi::xml_document>> docs;

  explicit driver(client_login login) : client(std::move(login)) {}

  client_negotiation::step header() {
    stream_header h;
    h.attributes = {{"version", "1.0"}};
    return client.on_header(h);
  }
  client_negotiation::step feed(const std::string& xml) {
    docs.push_back(std::make_unique<pugi::xml_document>());
    EXPECT_TRUE(docs.back()->load_string(xml.c_str())) << xml;
    return client.on_element(docs.back()->document_element());
  }
};

std::string features(const std::string& mechanisms, bool starttls = false) {
  std::string out = "<stream:features>";
  if (starttls) out += "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>";
  out += "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>";
  std::string_view rest = mechanisms;
  while (!rest.empty()) {
    auto space = rest.find(' ');
    out += "<mechanism>" + std::string(rest.substr(0, space)) + "</mechanism>";
    rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
  }
  return out + "</mechanisms></stream:features>";
}

std::string sasl(const std::string& name, std::optional<std::string> payload) {
  std::string out = "<" + name + " xmlns='" + sasl_ns + "'";
  if (!payload) return out + "/>";
  return out + ">" + base64_encode(*payload) + "</" + name + ">";
}

// The element `xml` as the client sent it: its name and decoded payload.
struct sent_sasl {
  std::string name, mechanism, payload;
};
sent_sasl read_sent(const std::string& xml) {
  pugi::xml_document doc;
  EXPECT_TRUE(doc.load_string(xml.c_str())) << xml;
  auto e = doc.document_element();
  EXPECT_EQ(std::string_view(e.attribute("xmlns").value()), sasl_ns) << xml;
  auto decoded = base64_decode(e.child_value());
  EXPECT_TRUE(decoded) << xml;
  return {e.name(), e.attribute("mechanism").value(), decoded.value_or("")};
}

client_login account(std::string user = "dev0001", std::string password = "s3cret pass") {
  client_login l;
  l.domain = "iot.local";
  l.resource = "r";
  l.user = std::move(user);
  l.password = std::move(password);
  return l;
}

TEST(ClientNegotiationTls, StartsTlsWhenOfferedAndRestartsTheStreamAfterTheHandshake) {
  driver d(account());
  d.header();
  auto s = d.feed(features("SCRAM-SHA-256 PLAIN", true));
  ASSERT_FALSE(s.failure);
  EXPECT_EQ(s.send, "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
  EXPECT_FALSE(s.start_tls);
  EXPECT_EQ(d.client.current(), client_negotiation::phase::starttls);

  s = d.feed("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
  ASSERT_FALSE(s.failure);
  EXPECT_TRUE(s.start_tls);
  EXPECT_TRUE(s.restart);
  EXPECT_EQ(s.send, "") << "nothing in plain text after <proceed/>";
  EXPECT_EQ(d.client.current(), client_negotiation::phase::tls_handshake);

  s = d.client.tls_established({"tls-exporter", std::string(32, 'x')});
  EXPECT_TRUE(d.client.tls());
  EXPECT_TRUE(s.restart);
  EXPECT_EQ(s.send, d.client.opening());
  d.header();
  s = d.feed(features("SCRAM-SHA-256-PLUS SCRAM-SHA-256 PLAIN"));
  ASSERT_FALSE(s.failure);
  auto auth = read_sent(s.send);
  EXPECT_EQ(auth.name, "auth");
  EXPECT_EQ(auth.mechanism, "SCRAM-SHA-256-PLUS");
  EXPECT_TRUE(auth.payload.starts_with("p=tls-exporter,,n=dev0001,r=")) << auth.payload;
}

TEST(ClientNegotiationTls, RefusedStartTlsIsAnError) {
  driver d(account());
  d.header();
  d.feed(features("SCRAM-SHA-256", true));
  auto s = d.feed("<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
  ASSERT_TRUE(s.failure);
  EXPECT_EQ(s.failure->kind, error_kind::remote);
  EXPECT_NE(s.failure->message.find("STARTTLS"), std::string::npos) << s.failure->message;
}

TEST(ClientNegotiationTls, RequiredTlsWithoutStartTlsStopsBeforeAuth) {
  client_login l = account();
  l.tls_required = true;
  driver d(l);
  d.header();
  auto s = d.feed(features("SCRAM-SHA-256 PLAIN"));
  ASSERT_TRUE(s.failure);
  EXPECT_EQ(s.send, "");
  EXPECT_EQ(s.failure->kind, error_kind::remote);
  EXPECT_EQ(s.failure->message,
            "TLS is required but the server does not offer STARTTLS: not going on in plain text");

  driver plain_ok(account());
  plain_ok.header();
  s = plain_ok.feed(features("SCRAM-SHA-256 PLAIN"));
  ASSERT_FALSE(s.failure) << "not required: SCRAM goes on without TLS";
  EXPECT_EQ(read_sent(s.send).mechanism, "SCRAM-SHA-256");
}

TEST(ClientNegotiationTls, DirectTlsNeverAsksForStartTls) {
  client_login l = account();
  l.tls_required = true;
  driver d(l);
  auto first = d.client.tls_established({"tls-server-end-point", std::string(32, 'e')});
  EXPECT_EQ(first.send, d.client.opening());
  d.header();
  auto s = d.feed(features("SCRAM-SHA-1-PLUS SCRAM-SHA-256 PLAIN", true));
  ASSERT_FALSE(s.failure);
  auto auth = read_sent(s.send);
  EXPECT_EQ(auth.mechanism, "SCRAM-SHA-1-PLUS");
  EXPECT_TRUE(auth.payload.starts_with("p=tls-server-end-point,,")) << auth.payload;
}

TEST(ClientNegotiationSasl, ChoosesTheStrongestMechanismItMayUse) {
  struct choice {
    const char* offered;
    bool tls;
    bool binding;
    bool allow_plain;
    const char* chosen;  // nullptr: a failure
  };
  const std::vector<choice> cases{
      {"PLAIN SCRAM-SHA-1 SCRAM-SHA-256 SCRAM-SHA-1-PLUS SCRAM-SHA-256-PLUS", true, true, false,
       "SCRAM-SHA-256-PLUS"},
      {"PLAIN SCRAM-SHA-1 SCRAM-SHA-256 SCRAM-SHA-1-PLUS", true, true, false, "SCRAM-SHA-1-PLUS"},
      {"PLAIN SCRAM-SHA-1 SCRAM-SHA-256 SCRAM-SHA-256-PLUS", true, false, false, "SCRAM-SHA-256"},
      {"PLAIN SCRAM-SHA-1 SCRAM-SHA-256-PLUS", false, false, false, "SCRAM-SHA-1"},
      {"PLAIN SCRAM-SHA-1", true, true, false, "SCRAM-SHA-1"},
      {"PLAIN ANONYMOUS", true, true, false, "PLAIN"},
      {"PLAIN ANONYMOUS", false, false, true, "PLAIN"},
      {"PLAIN ANONYMOUS", false, false, false, nullptr},
      {"ANONYMOUS", true, true, false, nullptr},
      {"", true, true, false, nullptr},
      {"SCRAM-SHA-256-PLUS", true, false, false, nullptr},
      {"DIGEST-MD5 X-OAUTH2", true, true, true, nullptr},
  };
  for (const choice& c : cases) {
    SCOPED_TRACE(std::string(c.offered) + (c.tls ? " tls" : "") + (c.binding ? " binding" : ""));
    client_login l = account();
    l.allow_plain_over_plaintext = c.allow_plain;
    driver d(l);
    if (c.tls)
      d.client.tls_established(c.binding ? channel_binding{"tls-exporter", "b"}
                                         : channel_binding{});
    d.header();
    auto s = d.feed(features(c.offered));
    if (!c.chosen) {
      ASSERT_TRUE(s.failure);
      EXPECT_EQ(s.failure->kind, error_kind::remote);
      EXPECT_EQ(s.send, "");
      EXPECT_NE(s.failure->message.find("it offers"), std::string::npos) << s.failure->message;
      continue;
    }
    ASSERT_FALSE(s.failure) << s.failure->message;
    EXPECT_EQ(read_sent(s.send).mechanism, c.chosen);
    EXPECT_EQ(d.client.mechanism(), c.chosen);
  }
}

TEST(ClientNegotiationSasl, PlainOnlyWithoutTlsSaysWhy) {
  driver d(account());
  d.header();
  auto s = d.feed(features("PLAIN"));
  ASSERT_TRUE(s.failure);
  EXPECT_NE(s.failure->message.find("plain text"), std::string::npos) << s.failure->message;
}

TEST(ClientNegotiationSasl, AnonymousWithoutAUser) {
  client_login login;
  login.resource = "r";
  driver d(login);
  d.header();
  auto s = d.feed(features("SCRAM-SHA-256 ANONYMOUS"));
  ASSERT_FALSE(s.failure);
  EXPECT_EQ(s.send, "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='ANONYMOUS'/>");
  client_login anonymous_login;
  anonymous_login.resource = "r";
  driver no_anonymous(anonymous_login);
  no_anonymous.header();
  s = no_anonymous.feed(features("SCRAM-SHA-256 PLAIN"));
  ASSERT_TRUE(s.failure);
  EXPECT_EQ(s.failure->message,
            "the server does not offer SASL ANONYMOUS (it offers SCRAM-SHA-256, PLAIN): log in "
            "with an account");
}

TEST(ClientNegotiationSasl, PlainSendsTheCredentialsAndRestartsOnSuccess) {
  driver d(account("dev7", "pw"));
  d.client.tls_established({});
  d.header();
  auto s = d.feed(features("PLAIN"));
  auto auth = read_sent(s.send);
  EXPECT_EQ(auth.payload, std::string("\0dev7\0pw", 8));
  s = d.feed(sasl("success", std::nullopt));
  ASSERT_FALSE(s.failure);
  EXPECT_TRUE(s.restart);
  EXPECT_EQ(s.send, d.client.opening());
  EXPECT_EQ(d.client.current(), client_negotiation::phase::restart_features);

  driver challenged(account("dev7", "pw"));
  challenged.client.tls_established({});
  challenged.header();
  challenged.feed(features("PLAIN"));
  s = challenged.feed(sasl("challenge", "more?"));
  ASSERT_TRUE(s.failure) << "PLAIN has no challenges";
  EXPECT_EQ(s.failure->kind, error_kind::protocol);
}

TEST(ClientNegotiationSasl, FailureGivesTheConditionInOneLine) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>",
       "authentication failed: not-authorized"},
      {"<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><account-disabled/>"
       "<text xml:lang='en'>call\nthe admin</text></failure>",
       "authentication failed: account-disabled: call the admin"},
      {"<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><temporary-auth-failure/></failure>",
       "authentication failed: temporary-auth-failure"},
      {"<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>",
       "authentication failed: not-authorized"},
  };
  for (const auto& [xml, message] : cases) {
    driver d(account());
    d.header();
    d.feed(features("SCRAM-SHA-256"));
    auto s = d.feed(xml);
    ASSERT_TRUE(s.failure) << xml;
    EXPECT_EQ(s.failure->kind, error_kind::remote);
    EXPECT_EQ(s.failure->message, message);
    EXPECT_EQ(s.failure->condition, message.substr(23, message.find(':', 23) - 23));
  }
}

// A SCRAM exchange against the sasl layer's scram_server holding the keys of
// `server_password`.
struct scram_run {
  driver d;
  scram_server server;
  scram_keys keys;
  std::string last_sent;

  scram_run(const std::string& mechanism, const std::string& server_password,
            channel_binding binding = {}, bool tls = false)
      : d(account("dev0001", "right")),
        server(parse_scram_mechanism(mechanism)->hash, parse_scram_mechanism(mechanism)->plus,
               parse_scram_mechanism(mechanism)->plus, binding),
        keys(new_scram_keys(parse_scram_mechanism(mechanism)->hash, server_password)) {
    if (tls) d.client.tls_established(binding);
    d.header();
    auto s = d.feed(features(mechanism));
    EXPECT_FALSE(s.failure);
    auto auth = read_sent(s.send);
    EXPECT_EQ(auth.mechanism, mechanism);
    auto user = server.on_client_first(auth.payload);
    EXPECT_EQ(std::get<std::string>(user), "dev0001");
    s = d.feed(sasl("challenge", server.server_first(keys)));
    EXPECT_FALSE(s.failure) << s.failure->message;
    last_sent = s.send;
  }

  // The server's verdict on the client-final-message: the server-final, or
  // nullopt on a failure.
  std::optional<std::string> server_final() {
    auto response = read_sent(last_sent);
    EXPECT_EQ(response.name, "response");
    auto verdict = server.on_client_final(response.payload);
    if (auto* v = std::get_if<std::string>(&verdict)) return *v;
    return std::nullopt;
  }
};

TEST(ClientNegotiationSasl, ScramVerifiesTheServerSignatureInSuccess) {
  for (const char* mechanism : {"SCRAM-SHA-256", "SCRAM-SHA-1"}) {
    SCOPED_TRACE(mechanism);
    scram_run run(mechanism, "right");
    auto final_message = run.server_final();
    ASSERT_TRUE(final_message);
    auto s = run.d.feed(sasl("success", *final_message));
    ASSERT_FALSE(s.failure) << s.failure->message;
    EXPECT_TRUE(s.restart);
    EXPECT_EQ(s.send, run.d.client.opening());
  }
}

TEST(ClientNegotiationSasl, ScramAcceptsTheServerFinalAsALastChallenge) {
  scram_run run("SCRAM-SHA-256", "right");
  auto final_message = run.server_final();
  ASSERT_TRUE(final_message);
  auto s = run.d.feed(sasl("challenge", *final_message));
  ASSERT_FALSE(s.failure) << s.failure->message;
  EXPECT_EQ(s.send, "<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
  s = run.d.feed(sasl("success", std::nullopt));
  ASSERT_FALSE(s.failure) << s.failure->message;
  EXPECT_TRUE(s.restart);
}

TEST(ClientNegotiationSasl, ScramWithChannelBinding) {
  channel_binding binding{"tls-exporter", std::string(32, '\x42')};
  scram_run run("SCRAM-SHA-256-PLUS", "right", binding, true);
  auto final_message = run.server_final();
  ASSERT_TRUE(final_message) << "the server saw the same binding";
  auto s = run.d.feed(sasl("success", *final_message));
  ASSERT_FALSE(s.failure) << s.failure->message;
}

TEST(ClientNegotiationSasl, ScramSaysYWhenItCouldBindButNoPlusIsOffered) {
  driver d(account());
  d.client.tls_established({"tls-exporter", std::string(32, 'x')});
  d.header();
  auto auth = read_sent(d.feed(features("SCRAM-SHA-256 PLAIN")).send);
  EXPECT_EQ(auth.mechanism, "SCRAM-SHA-256");
  EXPECT_TRUE(auth.payload.starts_with("y,,n=dev0001,")) << auth.payload;

  driver no_tls(account());
  no_tls.header();
  auth = read_sent(no_tls.feed(features("SCRAM-SHA-256")).send);
  EXPECT_TRUE(auth.payload.starts_with("n,,n=dev0001,")) << auth.payload;
}

TEST(ClientNegotiationSasl, ScramRefusesAServerThatDoesNotKnowTheKeys) {
  // The server holds other keys: the proof fails there, and a server that
  // claims success anyway cannot sign it.
  scram_run run("SCRAM-SHA-256", "wrong");
  EXPECT_FALSE(run.server_final());
  auto s = run.d.feed(sasl("success", "v=" + base64_encode(std::string(32, '\0'))));
  ASSERT_TRUE(s.failure);
  EXPECT_EQ(s.failure->kind, error_kind::protocol);
  EXPECT_NE(s.failure->message.find("signature"), std::string::npos) << s.failure->message;

  scram_run bare("SCRAM-SHA-256", "right");
  s = bare.d.feed(sasl("success", std::nullopt));
  ASSERT_TRUE(s.failure) << "success without the server-final proves nothing";
  EXPECT_EQ(s.failure->kind, error_kind::protocol);

  scram_run early("SCRAM-SHA-256", "right");
  s = early.d.feed(sasl("challenge", "v=" + base64_encode(std::string(32, '\0'))));
  ASSERT_TRUE(s.failure) << "a wrong server-final as a challenge";
}

TEST(ClientNegotiationSasl, ScramRejectsBadChallenges) {
  {
    driver d(account());
    d.header();
    d.feed(features("SCRAM-SHA-256"));
    auto s = d.feed("<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>not base64!</challenge>");
    ASSERT_TRUE(s.failure);
    EXPECT_EQ(s.failure->kind, error_kind::protocol);
    EXPECT_NE(s.failure->message.find("base64"), std::string::npos);
  }
  {
    driver d(account());
    d.header();
    d.feed(features("SCRAM-SHA-256"));
    auto s = d.feed(sasl("challenge", "r=not-our-nonce,s=" + base64_encode("salt") + ",i=4096"));
    ASSERT_TRUE(s.failure);
    EXPECT_EQ(s.failure->kind, error_kind::protocol);
  }
  {
    driver d(account());
    d.header();
    d.feed(features("SCRAM-SHA-256"));
    auto s = d.feed(sasl("success", std::nullopt));
    ASSERT_TRUE(s.failure) << "success before the exchange";
  }
}

TEST(ClientNegotiationSasl, LoginAgainstTheServersNegotiationStillBinds) {
  // After SASL the bind goes on as with ANONYMOUS.
  scram_run run("SCRAM-SHA-256", "right");
  auto final_message = run.server_final();
  ASSERT_TRUE(final_message);
  run.d.feed(sasl("success", *final_message));
  run.d.header();
  auto s = run.d.feed(bind_offered);
  EXPECT_NE(s.send.find("<resource>r</resource>"), std::string::npos) << s.send;
  s = run.d.feed(
      "<iq type='result' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
      "<jid>dev0001@iot.local/r</jid></bind></iq>");
  EXPECT_TRUE(s.bound);
  EXPECT_EQ(run.d.client.bound_jid().to_string(), "dev0001@iot.local/r");
}

// --- XEP-0198 stream management --------------------------------------------

constexpr const char* bind_and_sm =
    "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"
    "<sm xmlns='urn:xmpp:sm:3'/></stream:features>";
constexpr const char* bind_result =
    "<iq type='result' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
    "<jid>1@127.0.0.1/r</jid></bind></iq>";

// Anonymous login up to the bind result, with these post-auth features;
// the step the bind result gave.
client_negotiation::step up_to_bind_result(driver& d, const char* bind_features) {
  d.header();
  d.feed(anonymous);
  d.feed(success);
  d.header();
  EXPECT_NE(d.feed(bind_features).send.find("urn:ietf:params:xml:ns:xmpp-bind"), std::string::npos);
  return d.feed(bind_result);
}

client_login anonymous_login(bool sm = true) {
  client_login l;
  l.resource = "r";
  l.stream_management = sm;
  return l;
}

TEST(ClientNegotiationSm, EnablesWithResumptionAfterBindWhenOffered) {
  driver d(anonymous_login());
  auto s = up_to_bind_result(d, bind_and_sm);
  EXPECT_FALSE(s.failure);
  EXPECT_FALSE(s.bound) << "not done before the server answered <enable/>";
  EXPECT_EQ(s.send, "<enable xmlns='urn:xmpp:sm:3' resume='true'/>");
  EXPECT_EQ(d.client.current(), client_negotiation::phase::enable_sm);
  EXPECT_EQ(d.client.bound_jid().to_string(), "1@127.0.0.1/r");

  s = d.feed("<enabled xmlns='urn:xmpp:sm:3' id='abc123' resume='true' max='300'/>");
  EXPECT_FALSE(s.failure);
  EXPECT_TRUE(s.bound);
  EXPECT_EQ(s.send, "");
  EXPECT_EQ(d.client.current(), client_negotiation::phase::bound);
  ASSERT_TRUE(d.client.stream_management());
  EXPECT_EQ(d.client.stream_management()->id, "abc123");
  EXPECT_TRUE(d.client.stream_management()->resume);
  EXPECT_EQ(d.client.stream_management()->max_seconds, 300u);
  EXPECT_EQ(d.client.sm_refusal(), "");
}

TEST(ClientNegotiationSm, EnabledWithoutResumption) {
  // serve --resume-window 0: <enabled/> without an id.
  driver d(anonymous_login());
  up_to_bind_result(d, bind_and_sm);
  auto s = d.feed("<enabled xmlns='urn:xmpp:sm:3'/>");
  EXPECT_TRUE(s.bound);
  ASSERT_TRUE(d.client.stream_management());
  EXPECT_FALSE(d.client.stream_management()->resume);
  EXPECT_EQ(d.client.stream_management()->id, "");
  EXPECT_EQ(d.client.stream_management()->max_seconds, 0u);

  // resume='true' without an id gives nothing to resume with.
  driver odd(anonymous_login());
  up_to_bind_result(odd, bind_and_sm);
  EXPECT_TRUE(odd.feed("<enabled xmlns='urn:xmpp:sm:3' resume='true' max='x'/>").bound);
  ASSERT_TRUE(odd.client.stream_management());
  EXPECT_FALSE(odd.client.stream_management()->resume);
  EXPECT_EQ(odd.client.stream_management()->max_seconds, 0u);
}

TEST(ClientNegotiationSm, FailedGoesOnWithoutStreamManagement) {
  driver d(anonymous_login());
  up_to_bind_result(d, bind_and_sm);
  auto s = d.feed(
      "<failed xmlns='urn:xmpp:sm:3'><unexpected-request "
      "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>");
  EXPECT_FALSE(s.failure);
  EXPECT_TRUE(s.bound);
  EXPECT_EQ(s.send, "");
  EXPECT_FALSE(d.client.stream_management());
  EXPECT_EQ(d.client.sm_refusal(), "unexpected-request");

  driver bare(anonymous_login());
  up_to_bind_result(bare, bind_and_sm);
  EXPECT_TRUE(bare.feed("<failed xmlns='urn:xmpp:sm:3'/>").bound);
  EXPECT_EQ(bare.client.sm_refusal(), "undefined-condition");
}

TEST(ClientNegotiationSm, NotOfferedOrNotWantedBindsAtOnce) {
  driver not_offered(anonymous_login());
  auto s = up_to_bind_result(not_offered, bind_offered);
  EXPECT_TRUE(s.bound);
  EXPECT_EQ(s.send, "");
  EXPECT_FALSE(not_offered.client.stream_management());

  driver not_wanted(anonymous_login(false));
  s = up_to_bind_result(not_wanted, bind_and_sm);
  EXPECT_TRUE(s.bound);
  EXPECT_EQ(s.send, "");
  EXPECT_FALSE(not_wanted.client.stream_management());
  EXPECT_EQ(not_wanted.client.sm_refusal(), "");
}

TEST(ClientNegotiationSm, AnythingElseWhileEnablingIsAProtocolError) {
  driver d(anonymous_login());
  up_to_bind_result(d, bind_and_sm);
  auto s = d.feed("<message from='x@y'/>");
  ASSERT_TRUE(s.failure);
  EXPECT_EQ(s.failure->kind, error_kind::protocol);
  // <enabled/> in another namespace is not XEP-0198's.
  driver other(anonymous_login());
  up_to_bind_result(other, bind_and_sm);
  EXPECT_TRUE(other.feed("<enabled xmlns='urn:xmpp:sm:2'/>").failure);
}

TEST(RemoteError, ReadsStreamAndStanzaErrors) {
  pugi::xml_document doc;
  doc.load_string(
      "<stream:error><policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><text "
      "xmlns='urn:ietf:params:xml:ns:xmpp-streams'>too fast</text></stream:error>");
  error e = stream_error_of(doc.document_element());
  EXPECT_EQ(e.kind, error_kind::remote);
  EXPECT_EQ(e.condition, "policy-violation");
  EXPECT_EQ(e.message, "stream error: policy-violation: too fast");

  doc.load_string(
      "<message type='error' id='m1'><error type='modify'><bad-request "
      "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>");
  e = stanza_error_of(doc.document_element());
  EXPECT_EQ(e.condition, "bad-request");
  EXPECT_EQ(e.message, "message error: bad-request");

  doc.load_string("<iq type='error'/>");
  EXPECT_EQ(stanza_error_of(doc.document_element()).condition, "undefined-condition");
}

}  // namespace
}  // namespace iotxmpp
