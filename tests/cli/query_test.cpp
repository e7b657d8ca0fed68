// iotxmpp query, end to end: text and JSON outputs and the exit codes.

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <regex>
#include <set>

#include <nlohmann/json.hpp>

#include "core/model/datetime.hpp"
#include "support/process.hpp"
#include "support/scripted_server.hpp"
#include "wire/wire_fixture.hpp"

namespace iotxmpp::test {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;

process_result query(unsigned short port, std::vector<std::string> args) {
  args.insert(args.begin(), "query");
  args.insert(args.begin() + 2, {"--server", "127.0.0.1:" + std::to_string(port)});
  return run_iotxmpp(args, {}, 20s);
}

// A device that reported kitchen at +01:00 with all three values.
void seed_kitchen(test_server& server) {
  raw_client device("127.0.0.1", server.port());
  device.negotiate("thermo");
  device.send(report("k1", "kitchen", "21.5", "2026-11-24T08:00:00+01:00"));
  ASSERT_TRUE(sync(device));
}

TEST(CliQuery, RecommendJsonHasTheRoomOffsetPeriodAndTargets) {
  test_server server;
  ASSERT_NO_FATAL_FAILURE(seed_kitchen(server));
  auto r = query(server.port(), {"recommend", "--room", "kitchen", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = json::parse(r.out);
  EXPECT_EQ(j["room"], "kitchen");
  auto at = parse_datetime(j["at"].get<std::string>());
  ASSERT_TRUE(at) << j["at"];
  EXPECT_EQ(at->offset_minutes, 60) << "answered in the room's own offset";
  EXPECT_LT(std::chrono::abs(at->utc.time_since_epoch() -
                             std::chrono::duration_cast<std::chrono::microseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())),
            std::chrono::microseconds(10s));
  std::set<std::string> periods{"night", "morning", "day", "evening"};
  EXPECT_TRUE(periods.count(j["period"].get<std::string>())) << j["period"];
  ASSERT_EQ(j["targets"].size(), 3u);
  std::set<std::string> names;
  for (const auto& t : j["targets"]) {
    names.insert(t["name"].get<std::string>());
    EXPECT_TRUE(t["value"].is_number());
    std::string action = t["action"];
    EXPECT_TRUE(action == "raise" || action == "lower" || action == "hold") << action;
  }
  EXPECT_EQ(names, (std::set<std::string>{"temperature", "humidity", "brightness"}));
  EXPECT_EQ(j["targets"][0]["unit"], "°C");
}

TEST(CliQuery, RecommendTextForAnUnknownRoom) {
  test_server server;
  auto r = query(server.port(), {"recommend", "--room", "nowhere"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::regex first(
      R"(^nowhere at \d{4}-\d\d-\d\dT[0-9:.]+(Z|[+-]\d\d:\d\d) \((night|morning|day|evening)\)\n)");
  EXPECT_TRUE(std::regex_search(r.out, first)) << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 4) << r.out;
  EXPECT_NE(r.out.find("  temperature  "), std::string::npos) << r.out;
  auto unknowns = 0;
  for (auto pos = r.out.find("unknown"); pos != std::string::npos;
       pos = r.out.find("unknown", pos + 1))
    ++unknowns;
  EXPECT_EQ(unknowns, 3) << r.out;
}

TEST(CliQuery, RecommendNeedsARoom) {
  test_server server;
  EXPECT_EQ(query(server.port(), {"recommend"}).exit_code, 2);
  auto r = query(server.port(), {"recommend", "--room", ""});  // the server says bad-request
  EXPECT_EQ(r.exit_code, 5);
  EXPECT_NE(r.err.find("bad-request"), std::string::npos) << r.err;
}

TEST(CliQuery, PingPrintsTheRoundTrip) {
  test_server server;
  auto r = query(server.port(), {"ping"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::regex_match(r.out, std::regex(R"(pong from iot\.local: \d+\.\d{3} ms\n)")))
      << r.out;
  r = query(server.port(), {"ping", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = json::parse(r.out);
  EXPECT_GT(j["rtt_ms"].get<double>(), 0.0);
  EXPECT_LT(j["rtt_ms"].get<double>(), 5000.0);
}

TEST(CliQuery, DevicesListsWhoIsOnlineButNotTheAsker) {
  test_server server;
  raw_client device("127.0.0.1", server.port());
  std::string jid = device.negotiate("lamp");
  auto r = query(server.port(), {"devices", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = json::parse(r.out);
  EXPECT_EQ(j["count"], 1);
  const std::string node = server.get().node_id();  // the host name
  EXPECT_EQ(j["devices"],
            json::parse(R"([{"jid":")" + jid + R"(","room":"","node":")" + node + R"("}])"));
  r = query(server.port(), {"devices"});
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, jid + " room=- node=" + node + "\n");
}

// Each device with the room of its latest report, which follows the device
// when it reports for another room.
TEST(CliQuery, DevicesShowEachDevicesRoom) {
  test_server server;
  raw_client kitchen("127.0.0.1", server.port());
  const std::string kitchen_jid = kitchen.negotiate("thermo");
  kitchen.send(report("k1", "kitchen"));
  ASSERT_TRUE(sync(kitchen));
  raw_client mover("127.0.0.1", server.port());
  const std::string mover_jid = mover.negotiate("mover");
  mover.send(report("m1", "hall"));
  ASSERT_TRUE(sync(mover));
  raw_client silent("127.0.0.1", server.port());
  const std::string silent_jid = silent.negotiate("silent");

  // Sorted by JID, as the server lists them.
  std::map<std::string, std::string> expected{
      {kitchen_jid, "kitchen"}, {mover_jid, "hall"}, {silent_jid, ""}};
  auto r = query(server.port(), {"devices", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = json::parse(r.out);
  EXPECT_EQ(j["count"], 3);
  json devices = json::array();
  const std::string node = server.get().node_id();
  for (const auto& [jid, room] : expected)
    devices.push_back({{"jid", jid}, {"room", room}, {"node", node}});
  EXPECT_EQ(j["devices"], devices) << r.out;

  r = query(server.port(), {"devices"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string text;
  for (const auto& [jid, room] : expected)
    text += jid + " room=" + (room.empty() ? "-" : room) + " node=" + node + "\n";
  EXPECT_EQ(r.out, text);

  mover.send(report("m2", "attic"));
  ASSERT_TRUE(sync(mover));
  r = query(server.port(), {"devices", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  bool seen = false;
  const json moved = json::parse(r.out);
  for (const auto& d : moved["devices"])
    if (d["jid"] == mover_jid) {
      EXPECT_EQ(d["room"], "attic");
      seen = true;
    }
  EXPECT_TRUE(seen) << r.out;
}

// ANONYMOUS and the restart after it, up to where bind or resume goes.
void authenticate(raw_client& c) {
  c.send(raw_client::header());
  c.read_until("</stream:features>");
  c.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='ANONYMOUS'/>");
  c.read_until("/>");
  c.send(raw_client::header());
  c.read_until("</stream:features>");
}

// A device whose connection dropped is listed again, in its room, once it
// resumes its stream (XEP-0198).
TEST(CliQuery, DevicesKeepTheirRoomOverAResumedStream) {
  test_server server;
  auto first = std::make_unique<raw_client>("127.0.0.1", server.port());
  const std::string jid = first->negotiate("roamer");
  first->send("<enable xmlns='urn:xmpp:sm:3' resume='true'/>");
  std::string enabled = first->read_until("/>");
  std::smatch id;
  ASSERT_TRUE(std::regex_search(enabled, id, std::regex("id='([^']+)'"))) << enabled;
  first->send(report("r1", "cellar"));
  ASSERT_TRUE(sync(*first));
  first.reset();  // the connection is gone without a word

  raw_client again("127.0.0.1", server.port());
  authenticate(again);
  // We handled 1 stanza from the server: the result of sync()'s ping.
  again.send("<resume xmlns='urn:xmpp:sm:3' previd='" + id[1].str() + "' h='1'/>");
  std::string resumed = again.read_until("/>");
  ASSERT_NE(resumed.find("<resumed "), std::string::npos) << resumed;
  again.send(ping("after"));
  again.read_until("id='after'");

  auto r = query(server.port(), {"devices", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["devices"],
            json::parse(R"([{"jid":")" + jid + R"(","room":"cellar","node":")" +
                        server.get().node_id() + R"("}])"))
      << r.out;
}

TEST(CliQuery, InfoListsTheFeatures) {
  test_server server;
  auto r = query(server.port(), {"info", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = json::parse(r.out);
  ASSERT_EQ(j["identities"].size(), 1u);
  EXPECT_EQ(j["identities"][0]["category"], "server");
  std::set<std::string> features;
  for (const auto& f : j["features"]) features.insert(f.get<std::string>());
  for (auto f : {"urn:xmpp:ping", "http://jabber.org/protocol/disco#info", "jabber:iq:version",
                 "urn:iotxmpp:recommend:0", "urn:iotxmpp:feed:0", "urn:xmpp:iot:sensordata"})
    EXPECT_TRUE(features.count(f)) << f;
  r = query(server.port(), {"info"});
  EXPECT_NE(r.out.find("identity server/im iotxmpp\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("feature urn:iotxmpp:feed:0\n"), std::string::npos) << r.out;
}

TEST(CliQuery, VersionNamesTheServer) {
  test_server server;
  auto r = query(server.port(), {"version"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "iotxmpp " IOTXMPP_VERSION "\n");
  r = query(server.port(), {"version", "--json"});
  EXPECT_EQ(json::parse(r.out), json({{"name", "iotxmpp"}, {"version", IOTXMPP_VERSION}}));
}

TEST(CliQuery, ExitCodesForConnectTimeoutAndRemoteErrors) {
  auto refused = query(unused_port(), {"ping"});
  EXPECT_EQ(refused.exit_code, 3);
  EXPECT_EQ(refused.out, "");
  EXPECT_NE(refused.err.find("refused"), std::string::npos) << refused.err;

  // Binds, then never answers the ping.
  scripted_server mute(scripted_server::negotiation());
  auto t0 = std::chrono::steady_clock::now();
  auto silent = query(mute.port(), {"ping", "--timeout", "300ms"});
  EXPECT_EQ(silent.exit_code, 4) << silent.err;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);

  scripted_server refusing(scripted_server::negotiation(
      "r", {{"urn:xmpp:ping",
             "<iq type='error' id='c1'><error type='cancel'><service-unavailable "
             "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"}}));
  auto remote = query(refusing.port(), {"ping"});
  EXPECT_EQ(remote.exit_code, 5);
  EXPECT_NE(remote.err.find("service-unavailable"), std::string::npos) << remote.err;

  EXPECT_EQ(run_iotxmpp({"query"}).exit_code, 2);
  EXPECT_EQ(run_iotxmpp({"query", "ping", "--timeout", "soon"}).exit_code, 2);
}

// `query --help` states its exit codes once (its own, not the global list
// again), and still says where option values may come from.
TEST(CliQuery, HelpHasOneExitCodeParagraph) {
  auto r = run_iotxmpp({"query", "--help"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::size_t paragraphs = 0;
  for (auto at = r.out.find("Exit codes"); at != std::string::npos;
       at = r.out.find("Exit codes", at + 1))
    ++paragraphs;
  EXPECT_EQ(paragraphs, 1u) << r.out;
  EXPECT_NE(r.out.find("Exit codes: 0 answered, 2 usage, 3 cannot connect, 4 timeout, 5 error"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("IOTXMPP_<NAME>"), std::string::npos) << r.out;
  // An action's help has the global list, once.
  r = run_iotxmpp({"query", "devices", "--help"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find("Exit codes"), r.out.rfind("Exit codes")) << r.out;
  EXPECT_NE(r.out.find("Exit codes"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace iotxmpp::test
