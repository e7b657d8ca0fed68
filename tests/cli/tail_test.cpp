// iotxmpp tail, end to end: lines as reports arrive, filters, counts, quiet
// time, Ctrl-C, and following the feed across a server restart.

#include <gtest/gtest.h>

#include <signal.h>

#include <nlohmann/json.hpp>

#include "support/child_process.hpp"
#include "support/process.hpp"
#include "support/scripted_server.hpp"
#include "wire/wire_fixture.hpp"

namespace iotxmpp::test {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;

std::vector<std::string> tail_args(unsigned short port, std::vector<std::string> more) {
  std::vector<std::string> args{"tail", "--server", "127.0.0.1:" + std::to_string(port)};
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

// A device that sends `stanza` every 100 ms until `tail` prints a line
// (tail subscribes asynchronously, so the first few may go unseen); returns
// that line, or "" after 10 s.
std::string feed_until_line(test_server& server, child_process& tail, const std::string& stanza,
                            raw_client* device = nullptr) {
  std::unique_ptr<raw_client> own;
  if (!device) {
    own = std::make_unique<raw_client>("127.0.0.1", server.port());
    own->negotiate("feeder");
    device = own.get();
  }
  for (int i = 0; i < 100; ++i) {
    device->send(stanza);
    if (auto line = tail.read_line(100ms)) return *line;
  }
  return "";
}

TEST(CliTail, PrintsOneTextLinePerReport) {
  test_server server;
  child_process tail(tail_args(server.port(), {"-n", "1"}));
  raw_client device("127.0.0.1", server.port());
  std::string jid = device.negotiate("thermo");
  std::string line = feed_until_line(server, tail, report("", "kitchen", "21.5"), &device);
  EXPECT_EQ(line,
            "2026-11-24T08:00:00+01:00 kitchen temperature=21.5°C humidity=40.2% "
            "brightness=310lx from=" +
                jid);
  EXPECT_EQ(tail.wait(5s), 0) << tail.err();
  EXPECT_EQ(tail.rest(), "") << "exactly one line with -n 1";
}

TEST(CliTail, JsonLinesFilteredByRoom) {
  test_server server;
  child_process tail(tail_args(server.port(), {"--json", "--room", "kitchen", "-n", "2"}));
  raw_client device("127.0.0.1", server.port());
  std::string jid = device.negotiate("thermo");
  std::string first;
  for (int i = 0; i < 100 && first.empty(); ++i) {
    device.send(report(std::string("a").append(std::to_string(i)), "attic", "5"));
    device.send(report(std::string("k").append(std::to_string(i)), "kitchen", "21.5"));
    if (auto l = tail.read_line(100ms)) first = *l;
  }
  device.send(report("attic-last", "attic", "5"));
  device.send(report("kitchen-last", "kitchen", "22"));
  ASSERT_EQ(tail.wait(10s), 0) << tail.err();
  std::vector<std::string> lines{first};
  std::string rest = tail.rest();
  for (std::size_t nl; (nl = rest.find('\n')) != std::string::npos; rest.erase(0, nl + 1))
    lines.push_back(rest.substr(0, nl));
  ASSERT_EQ(lines.size(), 2u) << tail.rest();
  for (const auto& l : lines) {
    auto j = json::parse(l);
    EXPECT_EQ(j["type"], "report");
    EXPECT_EQ(j["room"], "kitchen") << "attic is filtered out by the server";
    EXPECT_EQ(j["from"], jid);
    EXPECT_EQ(j["at"], "2026-11-24T08:00:00+01:00");
    EXPECT_EQ(j["values"]["humidity"], 40.2);
    EXPECT_EQ(j["units"]["temperature"], "°C");
    EXPECT_EQ(j["id"].get<std::string>().front(), 'k');
    EXPECT_TRUE(j["received"].is_string());
  }
}

TEST(CliTail, PresenceLines) {
  test_server server;
  child_process tail(tail_args(server.port(), {"--json", "-n", "1"}));
  std::string line =
      feed_until_line(server, tail, "<presence><show>away</show><status>out</status></presence>");
  auto j = json::parse(line);
  EXPECT_EQ(j["type"], "presence");
  EXPECT_EQ(j["available"], true);
  EXPECT_EQ(j["show"], "away");
  EXPECT_EQ(j["status"], "out");
  EXPECT_NE(j["from"].get<std::string>().find("/feeder"), std::string::npos);
  EXPECT_EQ(tail.wait(5s), 0);

  child_process text(tail_args(server.port(), {"-n", "1"}));
  line = feed_until_line(server, text, "<presence type='unavailable'/>");
  EXPECT_NE(line.find(" presence "), std::string::npos) << line;
  EXPECT_EQ(line.substr(line.size() - 12), " unavailable") << line;
}

TEST(CliTail, QuietTimeEndsTheRun) {
  test_server server;
  auto t0 = std::chrono::steady_clock::now();
  auto r = run_iotxmpp(tail_args(server.port(), {"--timeout", "300ms"}));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 300ms);
  // -n promised events that never came: a timeout.
  r = run_iotxmpp(tail_args(server.port(), {"--timeout", "300ms", "-n", "1"}));
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 10s);
}

TEST(CliTail, CtrlCExitsCleanly) {
  test_server server;
  child_process tail(tail_args(server.port(), {}));
  ASSERT_NE(feed_until_line(server, tail, report("", "hall")), "");
  tail.signal(SIGINT);
  EXPECT_EQ(tail.wait(5s), 0) << tail.err();
}

TEST(CliTail, FollowsTheFeedAcrossAServerRestart) {
  auto server = std::make_unique<test_server>();
  unsigned short port = server->port();
  child_process tail(tail_args(port, {"--json"}));
  auto before = json::parse(feed_until_line(*server, tail, report("", "lab", "10")));
  EXPECT_EQ(before["values"]["temperature"], 10);

  server.reset();  // system-shutdown to tail, then nobody listens for a while
  std::this_thread::sleep_for(500ms);
  test_server again(
      [port](server_options& o) { o.config.listen = {"127.0.0.1:" + std::to_string(port)}; });
  json after;
  raw_client device("127.0.0.1", port);
  device.negotiate("feeder");
  for (int i = 0; i < 100 && after.is_null(); ++i) {
    device.send(report("", "lab", "30"));
    while (auto line = tail.read_line(100ms)) {
      auto j = json::parse(*line);
      if (j["values"]["temperature"] == 30) {
        after = j;
        break;
      }
    }
  }
  ASSERT_FALSE(after.is_null()) << "no line after the restart; stderr: " << tail.err();
  EXPECT_EQ(after["room"], "lab");
  tail.signal(SIGTERM);
  EXPECT_EQ(tail.wait(5s), 0);
  EXPECT_NE(tail.err().find("reconnecting"), std::string::npos) << tail.err();
}

TEST(CliTail, CannotConnectExits3) {
  auto r = run_iotxmpp(tail_args(unused_port(), {}));
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_EQ(run_iotxmpp({"tail", "-n", "0"}).exit_code, 2);
}

}  // namespace
}  // namespace iotxmpp::test
