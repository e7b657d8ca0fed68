// XEP-0198 stream management in the shared client core (PROTOCOL.md §3.5):
// against the real in-process server (the ack comes only once the rows are
// stored), and against a scripted one for what the real server does not do
// on demand (asks for acks, acknowledges too much).

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>

#include "core/base/asio.hpp"
#include "core/client/blocking_client.hpp"
#include "core/client/client.hpp"
#include "support/scripted_server.hpp"
#include "support/test_server.hpp"
#include "wire/wire_fixture.hpp"

namespace iotxmpp {
namespace {

using namespace std::chrono_literals;
using test::scripted_server;
using test::test_server;

client_options options_for(unsigned short port) {
  client_options o;
  o.server.host = "127.0.0.1";
  o.server.port = port;
  o.connect_timeout = 3s;
  return o;
}

constexpr const char* enable = "<enable xmlns='urn:xmpp:sm:3' resume='true'/>";
constexpr const char* enabled = "<enabled xmlns='urn:xmpp:sm:3' id='sm-1' resume='true' max='60'/>";

// scripted_server::negotiation with <sm/> offered after auth and <enable/>
// answered with `enable_answer`, followed by `then`.
scripted_server::script sm_negotiation(scripted_server::script then,
                                       std::string enable_answer = enabled) {
  auto s = scripted_server::negotiation("r");
  std::string& bind_features = s[2].second;
  bind_features.replace(bind_features.find("</stream:features>"), 0, "<sm xmlns='urn:xmpp:sm:3'/>");
  s.push_back({enable, std::move(enable_answer)});
  s.insert(s.end(), then.begin(), then.end());
  return s;
}

// Waits (the loop runs) until `done` holds; false after 10 s.
template <class F>
bool wait_for(blocking_client& c, F done) {
  return c.run_until(done, 10s) == blocking_client::stop_reason::done;
}

TEST(ClientSm, EnabledAgainstTheServerAndAckedOnlyOnceTheRowsAreStored) {
  test_server server;
  blocking_client c(options_for(server.port()));
  ASSERT_TRUE(c.connect());
  ASSERT_TRUE(c.async().stream_management());
  auto db = test::open_test_store(server);
  auto before = db->count_reports();
  ASSERT_TRUE(before);

  constexpr int reports = 200;
  for (int i = 0; i < reports; ++i)
    ASSERT_TRUE(c.send(test::report("sm-" + std::to_string(i), "room" + std::to_string(i % 7))));
  auto counts = c.async().stream_counts();
  ASSERT_TRUE(counts);
  EXPECT_EQ(counts->sent, static_cast<std::uint32_t>(reports));

  std::optional<result<void>> acked;
  c.async().when_acked(10s, [&](result<void> r) { acked = r; });
  ASSERT_TRUE(wait_for(c, [&] { return acked.has_value(); }));
  ASSERT_TRUE(*acked) << acked->error().message;
  // The promise: when the ack is in, every row is visible to another
  // connection to the store.
  auto after = db->count_reports();
  ASSERT_TRUE(after);
  EXPECT_EQ(*after - *before, static_cast<std::size_t>(reports));
  counts = c.async().stream_counts();
  EXPECT_EQ(counts->acked, counts->sent);

  // Nothing new to cover: answered at once (but not synchronously).
  std::optional<result<void>> again;
  c.async().when_acked(1s, [&](result<void> r) { again = r; });
  EXPECT_FALSE(again);
  ASSERT_TRUE(wait_for(c, [&] { return again.has_value(); }));
  EXPECT_TRUE(*again);
  c.close();
}

TEST(ClientSm, SyncUsesTheAckWhenEnabled) {
  test_server server;
  blocking_client c(options_for(server.port()));
  ASSERT_TRUE(c.connect());
  ASSERT_TRUE(c.async().stream_management());
  auto db = test::open_test_store(server);
  auto before = db->count_reports().value();
  for (int i = 0; i < 25; ++i) ASSERT_TRUE(c.send(test::report("sync-" + std::to_string(i))));
  ASSERT_TRUE(c.sync(5s));
  EXPECT_EQ(db->count_reports().value() - before, 25u);
  EXPECT_EQ(c.async().stream_counts()->acked, 25u);
}

TEST(ClientSm, OffByOptionOrRefusedMeansNoStreamManagement) {
  test_server server;
  auto o = options_for(server.port());
  o.stream_management = false;
  blocking_client off(o);
  ASSERT_TRUE(off.connect());
  EXPECT_FALSE(off.async().stream_management());
  EXPECT_FALSE(off.async().stream_counts());
  std::optional<result<void>> acked;
  off.async().when_acked(1s, [&](result<void> r) { acked = r; });
  ASSERT_TRUE(wait_for(off, [&] { return acked.has_value(); }));
  ASSERT_FALSE(*acked);
  EXPECT_EQ(acked->error().kind, error_kind::usage);
  // sync() falls back to the ping barrier.
  ASSERT_TRUE(off.send(test::report("off-1")));
  ASSERT_TRUE(off.sync(5s));

  scripted_server refusing(
      sm_negotiation({{"urn:xmpp:ping", "<iq type='result' id='c1'/>"}},
                     "<failed xmlns='urn:xmpp:sm:3'><unexpected-request "
                     "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>"));
  blocking_client c(options_for(refusing.port()));
  ASSERT_TRUE(c.connect());
  EXPECT_FALSE(c.async().stream_management());
  ASSERT_TRUE(c.sync(3s));
  EXPECT_NE(refusing.received().find("urn:xmpp:ping"), std::string::npos);
}

TEST(ClientSm, AnswersTheServersRequestWithTheStanzasItRead) {
  std::string messages;
  for (int i = 0; i < 3; ++i)
    messages += "<message from='x@iot.local/a' id='m" + std::to_string(i) + "'/>";
  scripted_server fake(sm_negotiation(
      {{"", messages + "<r xmlns='urn:xmpp:sm:3'/>"},
       {"h='3'/>", "<message from='x@iot.local/a' id='m3'/><r xmlns='urn:xmpp:sm:3'/>"}}));
  blocking_client c(options_for(fake.port()));
  int seen = 0;
  c.async().on_stanza([&](pugi::xml_node) { ++seen; });
  ASSERT_TRUE(c.connect());
  ASSERT_TRUE(c.async().stream_management());
  ASSERT_TRUE(wait_for(c, [&] {
    return fake.received().find("<a xmlns='urn:xmpp:sm:3' h='4'/>") != std::string::npos;
  })) << fake.received();
  EXPECT_NE(fake.received().find("<a xmlns='urn:xmpp:sm:3' h='3'/>"), std::string::npos);
  EXPECT_EQ(seen, 4) << "the <r/> are not stanzas";
  EXPECT_EQ(c.async().stream_counts()->handled, 4u);
}

TEST(ClientSm, OneRequestCoversWaitersUntilMoreIsSent) {
  // The server acknowledges 1 after the first <r/>, then 2 after the second.
  scripted_server fake(
      sm_negotiation({{"<r xmlns='urn:xmpp:sm:3'/>", "<a xmlns='urn:xmpp:sm:3' h='1'/>"},
                      {"<r xmlns='urn:xmpp:sm:3'/>", "<a xmlns='urn:xmpp:sm:3' h='2'/>"}}));
  blocking_client c(options_for(fake.port()));
  ASSERT_TRUE(c.connect());
  ASSERT_TRUE(c.send("<presence/>"));
  std::optional<result<void>> first, second, third;
  c.async().when_acked(3s, [&](result<void> r) { first = r; });
  c.async().when_acked(3s, [&](result<void> r) { second = r; });  // no second <r/>
  ASSERT_TRUE(c.send("<presence><show>away</show></presence>"));
  c.async().when_acked(3s, [&](result<void> r) { third = r; });
  ASSERT_TRUE(wait_for(c, [&] { return first && second && third; }));
  EXPECT_TRUE(*first && *second && *third);
  std::string got = fake.received();
  std::size_t requests = 0;
  for (auto at = got.find("<r xmlns"); at != std::string::npos; at = got.find("<r xmlns", at + 1))
    ++requests;
  EXPECT_EQ(requests, 2u) << got;
}

TEST(ClientSm, TooHighAnAckEndsTheStream) {
  scripted_server fake(
      sm_negotiation({{"<r xmlns='urn:xmpp:sm:3'/>", "<a xmlns='urn:xmpp:sm:3' h='5'/>"}}));
  blocking_client c(options_for(fake.port()));
  std::optional<std::optional<error>> closed;
  c.async().on_closed([&](const std::optional<error>& why) { closed = why; });
  ASSERT_TRUE(c.connect());
  ASSERT_TRUE(c.send("<presence/>"));
  auto synced = c.sync(3s);
  ASSERT_FALSE(synced);
  EXPECT_EQ(synced.error().kind, error_kind::protocol);
  EXPECT_EQ(synced.error().condition, "handled-count-too-high");
  ASSERT_TRUE(wait_for(c, [&] { return closed.has_value(); }));
  ASSERT_TRUE(*closed);
  EXPECT_EQ((*closed)->condition, "handled-count-too-high");
  EXPECT_NE(fake.received().find("<handled-count-too-high xmlns='urn:xmpp:sm:3' h='5' "
                                 "send-count='1'/>"),
            std::string::npos)
      << fake.received();
}

TEST(ClientSm, ALostConnectionFailsTheWaitersWithItsError) {
  // Enabled, then the server never acknowledges and closes its stream.
  scripted_server fake(sm_negotiation({{"<r xmlns='urn:xmpp:sm:3'/>",
                                        "<stream:error><system-shutdown "
                                        "xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
                                        "</stream:error></stream:stream>"}}));
  blocking_client c(options_for(fake.port()));
  ASSERT_TRUE(c.connect());
  ASSERT_TRUE(c.send("<presence/>"));
  auto synced = c.sync(3s);
  ASSERT_FALSE(synced);
  EXPECT_EQ(synced.error().condition, "system-shutdown");
}

TEST(ClientSm, NoAckInTimeIsATimeout) {
  scripted_server fake(sm_negotiation({}));  // never answers <r/>
  blocking_client c(options_for(fake.port()));
  ASSERT_TRUE(c.connect());
  ASSERT_TRUE(c.send("<presence/>"));
  auto t0 = std::chrono::steady_clock::now();
  auto synced = c.sync(300ms);
  ASSERT_FALSE(synced);
  EXPECT_EQ(synced.error().kind, error_kind::timeout);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
}

TEST(ClientSm, CountsTopLevelStanzasButNotNonzas) {
  scripted_server fake(sm_negotiation({}));
  blocking_client c(options_for(fake.port()));
  ASSERT_TRUE(c.connect());
  ASSERT_TRUE(
      c.send("<message to='a/>b' id=\"x>\"><body>1 &lt; 2<![CDATA[<x>]]></body></message>"
             "<presence/>\n<iq type='get' id='q'><ping xmlns='urn:xmpp:ping'/></iq>"
             "<r xmlns='urn:xmpp:sm:3'/>"));
  EXPECT_EQ(c.async().stream_counts()->sent, 3u);
}

}  // namespace
}  // namespace iotxmpp
