// registry: who is online here and on the other nodes, and which local
// session a bind elsewhere replaces; feed::publish_made to the followers of
// a room.

#include "core/server/registry.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <thread>

#include "core/server/feed.hpp"
#include "support/recording_peer.hpp"

namespace iotxmpp {
namespace {

using test::recording_peer;

std::vector<std::string> listed(const registry& r) {
  std::vector<std::string> out;
  for (const auto& d : r.online_devices()) out.push_back(d.jid + " " + d.room + " " + d.node);
  return out;
}

TEST(Registry, ListsThisNodesDevicesWithRoomsThenTheOthersOnceEach) {
  registry r("node-a");
  auto lamp = std::make_shared<recording_peer>("1@iot.local/lamp");
  auto fan = std::make_shared<recording_peer>("2@iot.local/fan");
  EXPECT_EQ(r.bind(lamp), nullptr);
  EXPECT_EQ(r.bind(fan, "hall"), nullptr);  // a resumed session keeps its room
  r.moved(*lamp, "kitchen");
  r.set_elsewhere({{"3@iot.local/x", "attic", "node-b"},
                   {"2@iot.local/fan", "cellar", "node-b"}});  // bound here too: ours
  EXPECT_EQ(listed(r), (std::vector<std::string>{"1@iot.local/lamp kitchen node-a",
                                                 "2@iot.local/fan hall node-a",
                                                 "3@iot.local/x attic node-b"}));
  EXPECT_EQ(r.online(), (std::vector<std::string>{"1@iot.local/lamp", "2@iot.local/fan"}));
  EXPECT_EQ(r.online_count(), 2u);

  // A replaced peer's room change and unbind are ignored.
  auto lamp2 = std::make_shared<recording_peer>("1@iot.local/lamp");
  EXPECT_EQ(r.bind(lamp2), lamp);
  r.moved(*lamp, "garage");
  EXPECT_FALSE(r.unbind(*lamp));
  EXPECT_EQ(listed(r).front(), "1@iot.local/lamp  node-a");
  EXPECT_TRUE(r.unbind(*lamp2));
  r.set_elsewhere({});
  EXPECT_EQ(listed(r), std::vector<std::string>{"2@iot.local/fan hall node-a"});
}

TEST(Registry, ABindElsewhereReplacesOnlyAnOlderSessionHere) {
  registry r("node-a");
  const sys_micros before = clock::wall_now();
  auto dev = std::make_shared<recording_peer>("1@iot.local/same");
  r.bind(dev);
  const sys_micros after = clock::wall_now() + std::chrono::microseconds(1);
  EXPECT_EQ(r.bound_before("1@iot.local/same", before), nullptr);  // ours is newer
  EXPECT_EQ(r.bound_before("1@iot.local/same", after), dev);       // theirs is newer
  EXPECT_EQ(r.bound_before("1@iot.local/other", after), nullptr);  // not here
  r.unbind(*dev);
  EXPECT_EQ(r.bound_before("1@iot.local/same", after), nullptr);
}

TEST(Feed, PublishMadeReachesTheFollowersOfTheRoomEachWithItsOwnTo) {
  feed f;
  EXPECT_FALSE(f.followed());
  auto kitchen = std::make_shared<recording_peer>("1@iot.local/k");
  auto all = std::make_shared<recording_peer>("2@iot.local/a");
  auto hall = std::make_shared<recording_peer>("3@iot.local/h");
  f.subscribe(kitchen, "kitchen");
  f.subscribe(all, "");
  f.subscribe(hall, "hall");
  EXPECT_TRUE(f.followed());
  f.publish_made("kitchen",
                 [](std::string_view to) { return "<m to='" + std::string(to) + "'/>"; });
  EXPECT_EQ(kitchen->delivered, std::vector<std::string>{"<m to='1@iot.local/k'/>"});
  EXPECT_EQ(all->delivered, std::vector<std::string>{"<m to='2@iot.local/a'/>"});
  EXPECT_TRUE(hall->delivered.empty());
  f.unsubscribe(*kitchen);
  f.unsubscribe(*all);
  f.unsubscribe(*hall);
  EXPECT_FALSE(f.followed());
}

}  // namespace
}  // namespace iotxmpp
