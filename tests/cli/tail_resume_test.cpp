// iotxmpp tail across a dropped connection (XEP-0198 resumption): it resumes
// its stream and prints the events it missed meanwhile, each once, in order.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/child_process.hpp"
#include "support/tcp_proxy.hpp"
#include "wire/wire_fixture.hpp"

namespace iotxmpp::test {
namespace {

using namespace std::chrono_literals;

TEST(CliTailResume, ADroppedConnectionMissesNoEvent) {
  test_server server;
  tcp_proxy relay(server.port());
  child_process tail({"tail", "--server", "127.0.0.1:" + std::to_string(relay.port()), "--json",
                      "--room", "hall"});
  raw_client device("127.0.0.1", server.port());
  device.negotiate("hall-sensor");
  // Subscribed once an event comes through (subscription is asynchronous).
  std::optional<std::string> first;
  for (int i = 0; i < 100 && !first; ++i) {
    device.send(report("warmup-" + std::to_string(i), "hall"));
    first = tail.read_line(100ms);
  }
  ASSERT_TRUE(first) << tail.err();
  // Let the warm-up events arrive and be read, then cut tail's connection
  // and keep it away while the device goes on.
  while (tail.read_line(300ms)) {
  }
  relay.refuse_new(true);
  ASSERT_GE(relay.drop_all(), 1u);
  for (int i = 0; i < 5; ++i) device.send(report("missed-" + std::to_string(i), "hall"));
  ASSERT_TRUE(sync(device));
  relay.refuse_new(false);
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    auto line = tail.read_line(15s);
    ASSERT_TRUE(line) << "event " << i << " missing; stderr: " << tail.err();
    ids.push_back(nlohmann::json::parse(*line)["id"].get<std::string>());
  }
  EXPECT_EQ(ids,
            (std::vector<std::string>{"missed-0", "missed-1", "missed-2", "missed-3", "missed-4"}));
  EXPECT_NE(tail.err().find("resumed"), std::string::npos) << tail.err();
  // And it goes on following.
  device.send(report("after", "hall"));
  auto line = tail.read_line(10s);
  ASSERT_TRUE(line);
  EXPECT_EQ(nlohmann::json::parse(*line)["id"], "after");
  tail.signal(SIGINT);
  EXPECT_EQ(tail.wait(10s), 0) << tail.err();
}

}  // namespace
}  // namespace iotxmpp::test
