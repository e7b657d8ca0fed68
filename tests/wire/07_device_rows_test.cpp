// 07: the devices table as PROTOCOL.md §5 promises it: a device that went
// quiet is reaped and stays removed (its session's end does not bring the
// row back, nor make it look fresh), and last_update never claims a time
// the device was not heard from.

#include <chrono>
#include <memory>
#include <thread>

#include "core/base/clock.hpp"
#include "wire/wire_fixture.hpp"

namespace iotxmpp::test {
namespace {

using namespace std::chrono_literals;

using clock::wall_now;

TEST(Wire07DeviceRows, AReapedDeviceStaysRemovedAndLastUpdateIsWhenItWasHeard) {
  test_server server([](server_options& o) {
    o.config.stale_after = 1500ms;
    o.config.reap_every = 200ms;
    o.config.touch_every = 500ms;
  });
  auto db = open_test_store(server);
  raw_client c("127.0.0.1", server.port());
  const std::string jid = c.negotiate("quiet");
  c.send(report("r1"));
  ASSERT_TRUE(sync(c, "s1"));
  const sys_micros last_sent = wall_now();  // nothing is sent after this
  // The device falls silent but keeps its TCP connection: the server closes
  // the session as stale, and the reaper removes its row.
  const std::string got = c.read_to_close(5s);
  EXPECT_NE(got.find("<connection-timeout"), std::string::npos) << got;
  // From the close on, the row is either gone or as old as the last thing
  // the device sent; by two reap rounds past the stale window it is gone
  // and stays gone.
  const auto until = std::chrono::steady_clock::now() + 2500ms;
  bool removed = false;
  while (std::chrono::steady_clock::now() < until) {
    auto rows = db->devices(false);
    ASSERT_TRUE(rows) << rows.error().message;
    for (const auto& d : *rows) {
      EXPECT_EQ(d.jid, jid);
      EXPECT_LE(d.last_update, last_sent) << "last_update moved without news from the device";
    }
    if (rows->empty()) removed = true;
    if (removed) {
      EXPECT_TRUE(rows->empty()) << "a reaped device came back";
    }
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(removed) << "the stale device was never reaped";
  // Its readings stay.
  EXPECT_EQ(db->count_reports().value(), 1u);
}

TEST(Wire07DeviceRows, LastUpdateFollowsWhatIsReceivedAndTheEndMarksOffline) {
  test_server server([](server_options& o) { o.config.touch_every = 200ms; });
  auto db = open_test_store(server);
  auto client = std::make_unique<raw_client>("127.0.0.1", server.port());
  raw_client& c = *client;
  const sys_micros before_bind = wall_now();
  const std::string jid = c.negotiate("talker");
  std::this_thread::sleep_for(400ms);
  const sys_micros before_report = wall_now();
  c.send(report("r1", "hall"));
  ASSERT_TRUE(sync(c, "s1"));
  const sys_micros after_report = wall_now();
  // Quiet now: sweeps go on, but last_update stays at what was heard.
  std::this_thread::sleep_for(700ms);
  server.get().writer().flush();
  auto rows = db->devices(false);
  ASSERT_TRUE(rows && rows->size() == 1u);
  const device_row& d = rows->front();
  EXPECT_EQ(d.jid, jid);
  EXPECT_EQ(d.room, "hall");
  EXPECT_TRUE(d.online);
  EXPECT_GE(d.first_seen, before_bind);
  EXPECT_GE(d.last_update, before_report);
  EXPECT_LE(d.last_update, after_report);
  // The end of the session marks the row offline and moves nothing else.
  c.send("</stream:stream>");
  c.read_to_close(3s);
  client.reset();  // the connection goes: the session ends at once
  std::this_thread::sleep_for(300ms);
  server.get().writer().flush();
  rows = db->devices(false);
  ASSERT_TRUE(rows && rows->size() == 1u);
  EXPECT_FALSE(rows->front().online);
  EXPECT_EQ(rows->front().last_update, d.last_update);
}

}  // namespace
}  // namespace iotxmpp::test
