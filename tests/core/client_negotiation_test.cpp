// The client's negotiation state machine, without sockets: against the
// server's own negotiation through two framers, and against canned answers.

#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <vector>

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
