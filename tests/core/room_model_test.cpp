// The simulated room: physical ranges, a day in local time, determinism, and
// steering towards the server's targets.

#include "core/client/room_model.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "core/iot/rules.hpp"
#include "core/xml/xml_attr.hpp"

namespace iotxmpp {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

// 2026-03-02T00:00:00Z: a UTC midnight.
const sys_micros utc_midnight{std::chrono::sys_days{std::chrono::year{2026} / 3 / 2}};

// The UTC instant when the local clock at `offset_minutes` shows `local_hour`
// on day `day` after utc_midnight.
sys_micros at_local(int day, double local_hour, int offset_minutes) {
  auto local = utc_midnight + hours(24 * day) +
               std::chrono::microseconds(static_cast<std::int64_t>(local_hour * 3.6e9));
  return local - minutes(offset_minutes);
}

recommendation targets(const std::string& room, std::string action, double celsius, double humidity,
                       double lux) {
  recommendation r;
  r.room = room;
  r.targets = {{"temperature", celsius, "°C", action},
               {"humidity", humidity, "%", action},
               {"brightness", lux, "lx", action}};
  return r;
}

TEST(RoomModel, NamesAndZones) {
  EXPECT_EQ(room_name(1), "room-0001");
  EXPECT_EQ(room_name(2000), "room-2000");
  EXPECT_EQ(room_name(12345), "room-12345");
  std::set<int> offsets;
  for (std::size_t i = 1; i <= 24; ++i) {
    int o = room_zone_offset(i);
    EXPECT_GE(o, -12 * 60);
    EXPECT_LE(o, 14 * 60);
    offsets.insert(o);
  }
  EXPECT_EQ(offsets.size(), 24u) << "the first rooms spread over distinct zones";
  EXPECT_NE(room_zone_offset(1), room_zone_offset(2));
  EXPECT_EQ(room_zone_offset(1), room_zone_offset(25));
}

TEST(RoomModel, ReportCarriesRoomLocalTimeAndUnits) {
  room_model room("kitchen", 330, 7);
  auto now = at_local(0, 8, 330);
  status_report r = room.report(now);
  EXPECT_EQ(r.room, "kitchen");
  EXPECT_EQ(r.taken_at.utc, now);
  EXPECT_EQ(r.taken_at.offset_minutes, 330);
  ASSERT_EQ(r.values.size(), 3u);
  EXPECT_EQ(r.values[0].name, "temperature");
  EXPECT_EQ(r.values[0].unit, "°C");
  EXPECT_EQ(r.values[1].name, "humidity");
  EXPECT_EQ(r.values[1].unit, "%");
  EXPECT_EQ(r.values[2].name, "brightness");
  EXPECT_EQ(r.values[2].unit, "lx");
  // Rounded as a sensor reports, tenths and whole lux, and written so:
  // "21.3", never "21.300000000000001".
  for (int i = 0; i < 200; ++i) {
    status_report later = room.report(now + minutes(7 * i));
    for (const auto& v : later.values) {
      std::string text = format_number(v.value);
      EXPECT_LE(text.size(), 5u) << v.name << " " << text;
    }
  }
  EXPECT_EQ(r.values[2].value, std::round(r.values[2].value));
}

TEST(RoomModel, StaysWithinPhysicalRangesOverManyDaysAndZones) {
  for (std::size_t i = 1; i <= 24; ++i) {
    int offset = room_zone_offset(i);
    room_model room(room_name(i), offset, 1000 + i);
    for (int step = 0; step < 60 * 24 * 20 / 15; ++step) {  // 20 days, every 15 minutes
      auto now = utc_midnight + minutes(15 * step);
      // Now and then absurd targets: the actuators' power and the clamps hold.
      if (step % 97 == 0)
        room.steer(targets(room.name(), step % 2 ? "raise" : "lower", step % 2 ? 90 : -50,
                           step % 2 ? 150 : -20, step % 2 ? 1e6 : -5));
      room_reading r = room.sample(now);
      ASSERT_TRUE(std::isfinite(r.temperature) && std::isfinite(r.humidity) &&
                  std::isfinite(r.brightness));
      ASSERT_GE(r.temperature, room_min_celsius) << room.name() << " step " << step;
      ASSERT_LE(r.temperature, room_max_celsius) << room.name() << " step " << step;
      ASSERT_GE(r.humidity, room_min_humidity) << room.name() << " step " << step;
      ASSERT_LE(r.humidity, room_max_humidity) << room.name() << " step " << step;
      ASSERT_GE(r.brightness, room_min_lux) << room.name() << " step " << step;
      ASSERT_LE(r.brightness, room_max_lux) << room.name() << " step " << step;
    }
  }
}

TEST(RoomModel, UnsteeredRoomsStayPlausible) {
  // A room left alone is a room people live in: 12-32 °C, 15-85 %.
  for (std::size_t i = 1; i <= 24; ++i) {
    room_model room(room_name(i), room_zone_offset(i), 77 * i);
    for (int step = 0; step < 24 * 30; ++step) {
      room_reading r = room.sample(utc_midnight + hours(step));
      ASSERT_GE(r.temperature, 12);
      ASSERT_LE(r.temperature, 32);
      ASSERT_GE(r.humidity, 15);
      ASSERT_LE(r.humidity, 85);
    }
  }
}

// Means over `days` days of readings at local hours `a` and `b`.
struct day_profile {
  double temperature_a = 0, temperature_b = 0, humidity_a = 0, humidity_b = 0;
  double brightness_a = 0, brightness_b = 0;
};

day_profile profile(int offset, std::uint64_t seed, double a, double b, int days) {
  room_model room("r", offset, seed);
  day_profile p;
  for (int d = 0; d < days; ++d) {
    // Sampled through the whole day (every 30 min) so the noise evolves as in a run.
    for (int half = 0; half < 48; ++half) {
      double hour = half / 2.0;
      room_reading r = room.sample(at_local(d, hour, offset));
      if (hour == a) {
        p.temperature_a += r.temperature / days;
        p.humidity_a += r.humidity / days;
        p.brightness_a += r.brightness / days;
      }
      if (hour == b) {
        p.temperature_b += r.temperature / days;
        p.humidity_b += r.humidity / days;
        p.brightness_b += r.brightness / days;
      }
    }
  }
  return p;
}

TEST(RoomModel, FollowsLocalTimeInEveryZone) {
  for (int offset : {-600, -300, 0, 330, 540, 780}) {
    for (std::uint64_t seed : {1u, 2u, 3u}) {
      day_profile p = profile(offset, seed, 12, 4, 20);
      EXPECT_GT(p.temperature_a, p.temperature_b + 1.5) << "offset " << offset << " seed " << seed;
      EXPECT_LT(p.humidity_a, p.humidity_b)
          << "humidity moves against temperature, offset " << offset;
      EXPECT_GT(p.brightness_a, 50) << "daylight at local noon, offset " << offset;
      EXPECT_LT(p.brightness_b, 1) << "dark at 4 am local, offset " << offset;
    }
  }
}

TEST(RoomModel, LampsAtNightAfterSunset) {
  // 20:00 local: no daylight, lamps on; 04:00 local: dark.
  day_profile p = profile(-300, 11, 20, 4, 10);
  EXPECT_GT(p.brightness_a, 300);
  EXPECT_LT(p.brightness_b, 1);
}

TEST(RoomModel, SameInstantDiffersByZone) {
  // At 03:00 UTC it is noon in Tokyo and 22:00 the day before in New York:
  // Tokyo's rooms are in daylight, New York's only under lamps or dark, and
  // over many days Tokyo is the warmer at that instant.
  double tokyo_t = 0, new_york_t = 0;
  room_model tokyo("tokyo", 540, 5), new_york("ny", -300, 5);  // same character
  for (int d = 0; d < 20; ++d) {
    for (int h = 0; h < 24; ++h) {
      auto now = utc_midnight + hours(24 * d + h);
      auto t = tokyo.sample(now), n = new_york.sample(now);
      if (h == 3) {
        tokyo_t += t.temperature;
        new_york_t += n.temperature;
        EXPECT_GT(t.brightness, 50) << "day " << d;
      }
      if (h == 9) {
        EXPECT_LT(n.brightness, 1) << "04:00 in New York, day " << d;
      }
    }
  }
  EXPECT_GT(tokyo_t / 20, new_york_t / 20 + 1);
}

TEST(RoomModel, DeterministicForASeed) {
  room_model a("r", 60, 42), b("r", 60, 42), c("r", 60, 43);
  bool differs = false;
  for (int step = 0; step < 500; ++step) {
    auto now = utc_midnight + minutes(7 * step);
    if (step == 100) {
      a.steer(targets("r", "raise", 25, 50, 400));
      b.steer(targets("r", "raise", 25, 50, 400));
    }
    room_reading ra = a.sample(now), rb = b.sample(now), rc = c.sample(now);
    ASSERT_EQ(ra.temperature, rb.temperature);
    ASSERT_EQ(ra.humidity, rb.humidity);
    ASSERT_EQ(ra.brightness, rb.brightness);
    differs = differs || ra.temperature != rc.temperature;
  }
  EXPECT_TRUE(differs) << "another seed, another room";
}

TEST(RoomModel, TimeGoingBackIsNoTimePassing) {
  room_model room("r", 0, 3);
  auto now = at_local(0, 12, 0);
  room.sample(now);
  room_reading r = room.sample(now - hours(8));  // 04:00: would be dark
  EXPECT_GT(r.brightness, 0);
}

TEST(RoomModel, SteeringMovesTowardsTargets) {
  // Twins share seed and so the weather; only the steered one gets heating.
  room_model steered("r", 0, 9), twin("r", 0, 9);
  auto start = at_local(0, 3, 0);
  steered.steer(targets("r", "raise", 26, 55, 350));
  room_reading s{}, t{};
  for (int m = 0; m <= 120; ++m) {
    s = steered.sample(start + minutes(m));
    t = twin.sample(start + minutes(m));
  }
  EXPECT_NEAR(s.temperature, 26, 1);
  EXPECT_NEAR(s.humidity, 55, 3);
  EXPECT_NEAR(s.brightness, 350, 20) << "lamps at night";
  EXPECT_LT(t.temperature, 24);
  EXPECT_LT(t.brightness, 1);
}

TEST(RoomModel, UnknownActionsAndOtherRoomsAreIgnored) {
  room_model a("r", 0, 9), b("r", 0, 9);
  a.steer(targets("r", "unknown", 35, 90, 1500));
  a.steer(targets("other-room", "raise", 35, 90, 1500));
  recommendation odd;
  odd.room = "r";
  odd.targets = {{"co2", 400, "ppm", "lower"}};
  a.steer(odd);
  for (int m = 0; m < 300; ++m) {
    auto now = utc_midnight + minutes(m);
    room_reading ra = a.sample(now), rb = b.sample(now);
    ASSERT_EQ(ra.temperature, rb.temperature);
    ASSERT_EQ(ra.humidity, rb.humidity);
    ASSERT_EQ(ra.brightness, rb.brightness);
  }
}

TEST(RoomModel, SteeringByTheDefaultRulesConverges) {
  // A device's loop: report every minute, ask every 10 minutes, steer. After
  // the first hour the room holds the rules' targets nearly all the time,
  // through every period of several days, in zones far apart.
  const rules rs = rules::defaults();
  for (int offset : {-480, 0, 345, 600}) {
    room_model room("r", offset, 100 + offset);
    int checked = 0, temperature_ok = 0, humidity_ok = 0, brightness_ok = 0;
    auto start = at_local(0, 0, 0);
    for (int m = 0; m < 3 * 24 * 60; ++m) {
      auto now = start + minutes(m);
      status_report report = room.report(now);
      recommendation r = rs.recommend("r", "device", &report, now, 0);
      if (m % 10 == 0) room.steer(r);
      if (m < 60) continue;
      ++checked;
      for (const auto& target : r.targets) {
        bool hold = target.action == "hold";
        if (target.name == "temperature") temperature_ok += hold;
        if (target.name == "humidity") humidity_ok += hold;
        if (target.name == "brightness") brightness_ok += hold;
      }
    }
    EXPECT_GT(temperature_ok, checked * 95 / 100) << "offset " << offset;
    EXPECT_GT(humidity_ok, checked * 95 / 100) << "offset " << offset;
    EXPECT_GT(brightness_ok, checked * 95 / 100) << "offset " << offset;
  }
}

}  // namespace
}  // namespace iotxmpp
