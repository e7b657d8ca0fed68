// device_rows: the one author of a device's row; last_update moves only to
// instants something was received, and the end of a session never makes a
// row.

#include "core/server/device_rows.hpp"

#include <gtest/gtest.h>

namespace iotxmpp {
namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

sys_micros at(int s) { return sys_micros(std::chrono::seconds(s)); }

TEST(DeviceRows, BindMakesTheRowAndAReportMovesItToItsRoomOnce) {
  device_rows row;
  const steady::time_point t0{};
  auto made = std::get<device_touch>(row.bound("d@x/r", at(1), t0));
  EXPECT_EQ(made.at, at(1));
  EXPECT_EQ(made.room, "");
  EXPECT_EQ(made.bound_at, at(1));  // a bind: the writer's node takes the row
  auto moved = row.reported("d@x/r", "kitchen", at(2), t0 + 1s);
  ASSERT_TRUE(moved);
  EXPECT_EQ(std::get<device_touch>(*moved).bound_at, sys_micros{});  // not a bind
  EXPECT_EQ(std::get<device_touch>(*moved).room, "kitchen");
  EXPECT_EQ(std::get<device_touch>(*moved).at, at(2));
  EXPECT_FALSE(row.reported("d@x/r", "kitchen", at(3), t0 + 2s));  // same room: nothing
  EXPECT_EQ(row.room(), "kitchen");
}

TEST(DeviceRows, RefreshCarriesTheInstantLastHeardAndOnlyAfterNews) {
  device_rows row;
  const steady::time_point t0{};
  row.bound("d@x/r", at(100), t0);
  // Nothing heard since the bind: no refresh, however long it has been.
  EXPECT_FALSE(row.refresh("d@x/r", at(100), t0, t0 + 60s, 30s));
  // Heard at t0+5s; refreshed once `every` has passed since the last record.
  EXPECT_FALSE(row.refresh("d@x/r", at(105), t0 + 5s, t0 + 10s, 30s));
  auto r = row.refresh("d@x/r", at(105), t0 + 5s, t0 + 31s, 30s);
  ASSERT_TRUE(r);
  EXPECT_EQ(std::get<device_touch>(*r).at, at(105));  // not the sweep's time
  row.refreshed(t0 + 31s);
  EXPECT_FALSE(row.refresh("d@x/r", at(105), t0 + 5s, t0 + 90s, 30s));
}

TEST(DeviceRows, EndingMarksOfflineWithoutATime) {
  device_rows row;
  auto end = row.ended("d@x/r");
  ASSERT_TRUE(std::holds_alternative<device_offline>(end));
  EXPECT_EQ(std::get<device_offline>(end).device_jid, "d@x/r");
}

}  // namespace
}  // namespace iotxmpp
