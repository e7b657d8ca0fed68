// 14: a live-feed subscriber that subscribes and then stops reading is
// dropped with policy-violation, and the devices keep their rate meanwhile
// (PROTOCOL.md §3.4: "devices are never slowed down by a subscriber").
// The rate is measured in the same test without a subscriber, before and
// after, and compared with generous bounds: the machine is shared.
//
// `serve` runs as a process: its log says the moment it gives up on the
// subscriber. The stream error can only reach a subscriber that reads again
// (everything queued before it goes first), within the 2 s a closing
// session lingers; so the subscriber reads again as soon as the log says so.

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <memory>
#include <thread>
#include <vector>

#include "support/child_process.hpp"
#include "support/eventually.hpp"
#include "support/reporting_device.hpp"
#include "support/serve_process.hpp"
#include "wire/wire_fixture.hpp"

namespace iotxmpp::test {
namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

std::size_t acknowledged(const std::vector<std::unique_ptr<reporting_device>>& devices) {
  std::size_t n = 0;
  for (auto& d : devices) n += d->count().acknowledged;
  return n;
}

double seconds(steady::duration d) { return std::chrono::duration<double>(d).count(); }

// Reports per second the devices had acknowledged over `window`.
double rate_over(const std::vector<std::unique_ptr<reporting_device>>& devices,
                 std::chrono::milliseconds window) {
  const auto t0 = steady::now();
  const auto n0 = acknowledged(devices);
  std::this_thread::sleep_for(window);  // the measurement's window, not a wait for an event
  return double(acknowledged(devices) - n0) / seconds(steady::now() - t0);
}

TEST(Wire14FeedStall, AStalledSubscriberIsDroppedWithPolicyViolationAndDevicesKeepTheirRate) {
  temp_dir dir;
  const unsigned short port = raw_client::free_port();
  child_process serve(serve_args("sqlite:" + dir.path() + "/feed.db", port));
  ASSERT_TRUE(listening(port)) << serve.err();
  std::vector<std::unique_ptr<reporting_device>> devices;
  for (int i = 0; i < 4; ++i) {
    reporting_device_options o;
    o.port = port;
    o.name = "d" + std::to_string(i);
    o.room = "room-" + std::to_string(i);
    o.acks = i % 2 ? ack_by::stream_management : ack_by::ping;
    o.batch = 20;
    o.window = 4;  // as fast as the server acknowledges
    o.pause = 0ms;
    devices.push_back(std::make_unique<reporting_device>(o));
  }
  ASSERT_TRUE(eventually([&] { return acknowledged(devices) >= 2000; }, 60s));
  const double before = rate_over(devices, 2s);

  // The subscriber follows every room, then reads nothing more.
  raw_client subscriber("127.0.0.1", port);
  const std::string subscriber_jid = subscriber.negotiate("stalled");
  subscriber.send("<iq type='set' id='sub'><subscribe xmlns='urn:iotxmpp:feed:0'/></iq>");
  std::string answer = subscriber.read_until("id='sub'");
  ASSERT_NE(answer.find("type='result'"), std::string::npos) << answer;
  const auto stalled_at = steady::now();
  const auto acknowledged_at_stall = acknowledged(devices);
  ASSERT_TRUE(serve.wait_for_err("peer=" + subscriber_jid + " condition=policy-violation", 120s))
      << "the stalled subscriber was not given up: " << serve.err();
  const auto dropped_at = steady::now();
  // What it was sent: reports of the feed, then the stream error.
  std::string got = subscriber.read_to_close(30s);
  EXPECT_TRUE(subscriber.closed());
  const double during =
      double(acknowledged(devices) - acknowledged_at_stall) / seconds(dropped_at - stalled_at);

  const double after = rate_over(devices, 2s);
  for (auto& d : devices) d->stop();

  EXPECT_NE(got.find("nodeId='room-"), std::string::npos) << "it was sent reports before";
  const auto error_at = got.rfind("<stream:error>");
  ASSERT_NE(error_at, std::string::npos) << got.substr(got.size() > 2000 ? got.size() - 2000 : 0);
  EXPECT_NE(got.find("<policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>", error_at),
            std::string::npos)
      << got.substr(error_at);

  for (auto& d : devices) {
    EXPECT_FALSE(d->ended()) << d->jid() << " " << d->stream_error();
    EXPECT_EQ(d->problems(), std::vector<std::string>{}) << d->jid();
  }
  const double without = std::min(before, after);  // generous: the machine is shared
  std::printf(
      "[ figures ] devices' rate: %.0f/s without a subscriber, %.0f/s with it stalled "
      "(%.2f s until it was dropped, %zu bytes sent to it), %.0f/s after\n",
      before, during, seconds(dropped_at - stalled_at), got.size(), after);
  EXPECT_GT(without, 0);
  EXPECT_GE(during, 0.5 * without) << "the devices were slowed down by the stalled subscriber";
  serve.signal(SIGTERM);
  EXPECT_EQ(serve.wait(30s), 0) << serve.err();
}

}  // namespace
}  // namespace iotxmpp::test
