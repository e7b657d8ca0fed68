// iotxmpp send, end to end: the binary against an in-process server, checked
// in the server's store.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/process.hpp"
#include "support/scripted_server.hpp"
#include "wire/wire_fixture.hpp"

namespace iotxmpp::test {
namespace {

using namespace std::chrono_literals;

std::string at(const test_server& s) { return "127.0.0.1:" + std::to_string(s.port()); }

process_result send(const test_server& s, std::vector<std::string> args,
                    const std::string& input = {}) {
  args.insert(args.begin(), "send");
  args.insert(args.begin() + 2, {"--server", at(s)});
  return run_iotxmpp(args, input, 20s);
}

TEST(CliSend, StatusLandsInTheStore) {
  test_server server;
  auto r =
      send(server, {"status", "--room", "kitchen", "--temperature", "21.5", "--humidity", "40.2",
                    "--brightness", "310", "--at", "2026-11-24T08:00:00+01:00", "--id", "s-1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "");
  auto db = open_test_store(server);
  auto latest = db->latest_report("kitchen");
  ASSERT_TRUE(latest && *latest);
  const status_report& got = **latest;
  EXPECT_EQ(got.stanza_id, "s-1");
  EXPECT_EQ(got.taken_at.offset_minutes, 60);
  EXPECT_EQ(got.value_of("temperature"), 21.5);
  EXPECT_EQ(got.value_of("humidity"), 40.2);
  EXPECT_EQ(got.value_of("brightness"), 310);
  // An anonymous device: PORT@127.0.0.1/RESOURCE.
  const auto at_sign = got.device_jid.find('@');
  ASSERT_NE(at_sign, std::string::npos) << got.device_jid;
  ASSERT_GT(at_sign, 0u) << got.device_jid;
  EXPECT_EQ(got.device_jid.find_first_not_of("0123456789"), at_sign) << got.device_jid;
  EXPECT_EQ(got.device_jid.find("@127.0.0.1/"), at_sign) << got.device_jid;
  EXPECT_GT(got.device_jid.size(), at_sign + std::string_view("@127.0.0.1/").size())
      << "a resource after the slash: " << got.device_jid;
}

TEST(CliSend, StatusDefaultsToNowAndOnlyTheGivenValues) {
  test_server server;
  auto before = std::chrono::system_clock::now() - 1s;
  auto r = send(server, {"status", "--room", "hall", "--temperature", "-3.25", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["sent"], 1);
  EXPECT_EQ(j["refused"], 0);
  EXPECT_NE(j["jid"].get<std::string>().find("@127.0.0.1/"), std::string::npos);
  auto latest = open_test_store(server)->latest_report("hall");
  ASSERT_TRUE(latest && *latest);
  EXPECT_EQ((*latest)->values.size(), 1u);
  EXPECT_EQ((*latest)->value_of("temperature"), -3.25);
  EXPECT_GE((*latest)->taken_at.utc,
            std::chrono::time_point_cast<std::chrono::microseconds>(before));
}

TEST(CliSend, ResendWithTheSameIdIsStoredOnce) {
  test_server server;
  std::vector<std::string> args{"status", "--room", "den",    "--temperature",
                                "20",     "--id",   "boot1-7"};
  ASSERT_EQ(send(server, args).exit_code, 0);
  auto db = open_test_store(server);
  EXPECT_EQ(db->count_reports().value(), 1u);
  ASSERT_EQ(send(server, args).exit_code, 0);
  EXPECT_EQ(db->count_reports().value(), 1u) << "the resend is stored once";
  // Without --id every run is a new report.
  ASSERT_EQ(send(server, {"status", "--room", "den", "--temperature", "20"}).exit_code, 0);
  EXPECT_EQ(db->count_reports().value(), 2u);
  ASSERT_EQ(send(server, {"status", "--room", "den", "--temperature", "20"}).exit_code, 0);
  EXPECT_EQ(db->count_reports().value(), 3u);
}

TEST(CliSend, PresenceIsKeptAsTheDeviceState) {
  test_server server;
  auto r = send(server, {"presence", "--show", "away", "--status", "at lunch"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto rows = open_test_store(server)->devices(false);
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].show, "away");
  EXPECT_EQ((*rows)[0].status, "at lunch");
  EXPECT_EQ(send(server, {"presence", "--unavailable"}).exit_code, 0);
  EXPECT_EQ(send(server, {"presence", "--show", "sleepy"}).exit_code, 2);
}

TEST(CliSend, RawStanzasFromArgumentsAndStdinLines) {
  test_server server;
  auto r = send(server, {"raw", report("a1", "attic"), report("c1", "cellar")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto db = open_test_store(server);
  EXPECT_TRUE(db->latest_report("attic").value().has_value());
  EXPECT_TRUE(db->latest_report("cellar").value().has_value());

  std::string lines = report("l1", "loft") + "\n\n" + report("g1", "garage", "17") + "\n";
  r = send(server, {"raw", "-l"}, lines);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(db->latest_report("loft").value().has_value());
  auto garage = db->latest_report("garage");
  ASSERT_TRUE(garage && *garage);
  EXPECT_EQ((*garage)->value_of("temperature"), 17);
}

TEST(CliSend, RefusedStanzaPrintsTheConditionAndExits5) {
  test_server server;
  std::string bad = report("bad-1", "kitchen", "warm");  // not a number: bad-request
  auto r = send(server, {"raw", report("ok-1", "porch"), bad});
  EXPECT_EQ(r.exit_code, 5);
  EXPECT_NE(r.err.find("bad-request"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("bad-1"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  auto db = open_test_store(server);
  EXPECT_FALSE(db->latest_report("kitchen").value().has_value());
  EXPECT_TRUE(db->latest_report("porch").value().has_value()) << "the good one is still stored";
}

TEST(CliSend, StreamErrorExits5WithItsCondition) {
  test_server server;
  auto r = send(server, {"raw", "<bogus/>"});
  EXPECT_EQ(r.exit_code, 5);
  EXPECT_NE(r.err.find("unsupported-stanza-type"), std::string::npos) << r.err;
}

TEST(CliSend, UsageErrorsExit2BeforeConnecting) {
  test_server server;
  for (auto args : std::vector<std::vector<std::string>>{
           {"raw", "<message"},                // not well-formed
           {"raw", "<a/><b/>"},                // two stanzas
           {"raw"},                            // nothing to send
           {"status", "--temperature", "20"},  // no room
           {"status", "--room", "r", "--temperature", "x"},
           {"status", "--room", "r", "--temperature", "20", "--at", "yesterday"},
       }) {
    auto r = send(server, args);
    EXPECT_EQ(r.exit_code, 2) << args[0] << " " << r.err;
    EXPECT_EQ(r.err.rfind("iotxmpp: ", 0), 0u) << r.err;
  }
  auto r = send(server, {"raw", "-l", "<presence/>"}, "<presence/>\n");
  EXPECT_EQ(r.exit_code, 2);
  r = run_iotxmpp({"send", "status", "--server", "[::1", "--room", "r", "--temperature", "1"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--server"), std::string::npos);
}

TEST(CliSend, ConnectFailureExits3AndSilenceExits4) {
  auto refused =
      run_iotxmpp({"send", "presence", "--server", "127.0.0.1:" + std::to_string(unused_port())});
  EXPECT_EQ(refused.exit_code, 3) << refused.err;
  scripted_server mute(scripted_server::script{}, /*accept=*/false);
  auto t0 = std::chrono::steady_clock::now();
  auto silent = run_iotxmpp({"send", "presence", "--timeout", "300ms", "--server",
                             "127.0.0.1:" + std::to_string(mute.port())});
  EXPECT_EQ(silent.exit_code, 4) << silent.err;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
}

// scripted_server::negotiation with XEP-0198 offered and enabled, then `then`.
scripted_server::script sm_negotiation(scripted_server::script then) {
  auto s = scripted_server::negotiation("r");
  std::string& bind_features = s[2].second;
  bind_features.replace(bind_features.find("</stream:features>"), 0, "<sm xmlns='urn:xmpp:sm:3'/>");
  s.push_back({"<enable xmlns='urn:xmpp:sm:3' resume='true'/>",
               "<enabled xmlns='urn:xmpp:sm:3' id='sm-1' resume='true' max='60'/>"});
  s.insert(s.end(), then.begin(), then.end());
  return s;
}

TEST(CliSend, WithStreamManagementEveryRowIsStoredOnExit) {
  test_server server;
  auto db = open_test_store(server);
  auto before = db->count_reports().value();
  std::string lines;
  for (int i = 0; i < 40; ++i)
    lines += report(std::string("sm-").append(std::to_string(i)),
                    std::string("r").append(std::to_string(i))) +
             "\n";
  auto r = send(server, {"raw", "-l", "--json"}, lines);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Counted when the command has returned: its exit vouches for every row.
  EXPECT_EQ(db->count_reports().value() - before, 40u);
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["sent"], 40);
  EXPECT_EQ(j["refused"], 0);
}

TEST(CliSend, WaitsForTheServersAckWhenStreamManagementIsOn) {
  // Answers <r/> and never a ping: exit 0 proves the ack was the barrier.
  scripted_server fake(
      sm_negotiation({{"<r xmlns='urn:xmpp:sm:3'/>", "<a xmlns='urn:xmpp:sm:3' h='1'/>"}}));
  auto r = run_iotxmpp({"send", "presence", "--timeout", "3s", "--server",
                        "127.0.0.1:" + std::to_string(fake.port())});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  const std::string received = fake.received();
  // What it sent, so that the absence of a ping below means something.
  EXPECT_NE(received.find("<presence"), std::string::npos) << received;
  EXPECT_NE(received.find("<r xmlns='urn:xmpp:sm:3'/>"), std::string::npos) << received;
  EXPECT_EQ(received.find("urn:xmpp:ping"), std::string::npos) << received;

  // An ack that does not cover the stanza is no proof: it times out (exit 4).
  scripted_server short_ack(
      sm_negotiation({{"<r xmlns='urn:xmpp:sm:3'/>", "<a xmlns='urn:xmpp:sm:3' h='0'/>"}}));
  r = run_iotxmpp({"send", "presence", "--timeout", "500ms", "--server",
                   "127.0.0.1:" + std::to_string(short_ack.port())});
  EXPECT_EQ(r.exit_code, 4) << r.err;
}

TEST(CliSend, WithoutStreamManagementThePingIsTheBarrier) {
  scripted_server fake(
      scripted_server::negotiation("r", {{"urn:xmpp:ping", "<iq type='result' id='c1'/>"}}));
  auto r = run_iotxmpp({"send", "presence", "--timeout", "3s", "--server",
                        "127.0.0.1:" + std::to_string(fake.port())});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::string got = fake.received();
  EXPECT_NE(got.find("urn:xmpp:ping"), std::string::npos) << got;
  EXPECT_EQ(got.find("<enable"), std::string::npos) << got;
  EXPECT_EQ(got.find("<r xmlns"), std::string::npos) << got;
}

TEST(CliSend, ServerComesFromTheEnvironment) {
  test_server server;
  auto r = run_iotxmpp({"send", "status", "--room", "envroom", "--temperature", "5"}, {}, 20s,
                       {"IOTXMPP_SERVER=" + at(server)});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(open_test_store(server)->latest_report("envroom").value().has_value());
}

}  // namespace
}  // namespace iotxmpp::test
