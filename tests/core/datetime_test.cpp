// XEP-0082 DateTime parsing and formatting, and local clock arithmetic.

#include "core/model/datetime.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <ctime>

namespace iotxmpp {
namespace {

using namespace std::chrono;

sys_micros utc(int y, unsigned mo, unsigned d, int h, int mi, int s, int us = 0) {
  return sys_days{year{y} / mo / d} + hours{h} + minutes{mi} + seconds{s} + microseconds{us};
}

struct valid_case {
  const char* text;
  sys_micros utc;
  int offset;
};

TEST(DateTime, ParsesValidTexts) {
  const valid_case cases[] = {
      {"2026-11-24T08:00:00Z", utc(2026, 11, 24, 8, 0, 0), 0},
      {"2026-11-24T08:00:00+01:00", utc(2026, 11, 24, 7, 0, 0), 60},
      {"2026-11-24T08:00:00-05:30", utc(2026, 11, 24, 13, 30, 0), -330},
      {"2026-11-24T08:00:00.5Z", utc(2026, 11, 24, 8, 0, 0, 500000), 0},
      {"2026-11-24T08:00:00.123456Z", utc(2026, 11, 24, 8, 0, 0, 123456), 0},
      // Digits beyond microseconds are truncated, not rounded.
      {"2026-11-24T08:00:00.1234569999Z", utc(2026, 11, 24, 8, 0, 0, 123456), 0},
      {"2024-02-29T12:00:00Z", utc(2024, 2, 29, 12, 0, 0), 0},
      {"2000-02-29T00:00:00Z", utc(2000, 2, 29, 0, 0, 0), 0},
      {"2026-12-31T23:59:59+14:00", utc(2026, 12, 31, 9, 59, 59), 840},
      {"2026-01-01T00:00:00-14:00", utc(2026, 1, 1, 14, 0, 0), -840},
      {"2026-01-01T00:30:00+09:00", utc(2025, 12, 31, 15, 30, 0), 540},
      {"2026-11-24T08:00:00-00:00", utc(2026, 11, 24, 8, 0, 0), 0},
      {"1969-12-31T23:59:59.999999Z", utc(1969, 12, 31, 23, 59, 59, 999999), 0},
      {"0000-01-01T00:00:00Z", utc(0, 1, 1, 0, 0, 0), 0},
  };
  for (const auto& c : cases) {
    auto t = parse_datetime(c.text);
    ASSERT_TRUE(t.has_value()) << c.text << ": " << t.error().message;
    EXPECT_EQ(t->utc, c.utc) << c.text;
    EXPECT_EQ(t->offset_minutes, c.offset) << c.text;
  }
}

struct invalid_case {
  const char* text;
  const char* reason;
};

TEST(DateTime, RejectsInvalidTextsWithReason) {
  const invalid_case cases[] = {
      {"", "expected CCYY-MM-DDThh:mm:ss[.sss]TZD"},
      {"2026-11-24", "expected CCYY-MM-DDThh:mm:ss[.sss]TZD"},
      {"2026-11-24 08:00:00Z", "expected CCYY-MM-DDThh:mm:ss[.sss]TZD"},
      {"2026-11-24t08:00:00Z", "expected CCYY-MM-DDThh:mm:ss[.sss]TZD"},
      {"26-11-24T08:00:00Z", "expected CCYY-MM-DDThh:mm:ss[.sss]TZD"},
      {"2026-1-24T08:00:00Z", "expected CCYY-MM-DDThh:mm:ss[.sss]TZD"},
      {"2026-11-24T8:00:00Z", "expected CCYY-MM-DDThh:mm:ss[.sss]TZD"},
      {"2026-11-24T08:00Z", "expected CCYY-MM-DDThh:mm:ss[.sss]TZD"},
      {"2026-1a-24T08:00:00Z", "expected CCYY-MM-DDThh:mm:ss[.sss]TZD"},
      {" 2026-11-24T08:00:00Z", "expected CCYY-MM-DDThh:mm:ss[.sss]TZD"},
      {"2026-11-24T08:00:00", "missing time zone (Z or +hh:mm or -hh:mm)"},
      {"2026-11-24T08:00:00.123", "missing time zone (Z or +hh:mm or -hh:mm)"},
      {"2026-11-24T08:00:00z", "time zone must be Z or +hh:mm or -hh:mm"},
      {"2026-11-24T08:00:00+0100", "time zone must be Z or +hh:mm or -hh:mm"},
      {"2026-11-24T08:00:00+01", "time zone must be Z or +hh:mm or -hh:mm"},
      {"2026-11-24T08:00:00+1:00", "time zone must be Z or +hh:mm or -hh:mm"},
      {"2026-11-24T08:00:00Z ", "time zone must be Z or +hh:mm or -hh:mm"},
      {"2026-11-24T08:00:00+01:00x", "time zone must be Z or +hh:mm or -hh:mm"},
      {"2026-11-24T08:00:00+14:01", "offset +14:01 is out of range (at most 14:00 either way)"},
      {"2026-11-24T08:00:00-15:00", "offset -15:00 is out of range (at most 14:00 either way)"},
      {"2026-11-24T08:00:00+05:60", "offset +05:60 is out of range (at most 14:00 either way)"},
      {"2026-11-24T08:00:00.Z", "fraction of a second has no digits"},
      {"2026-00-24T08:00:00Z", "month 0 is out of range"},
      {"2026-13-24T08:00:00Z", "month 13 is out of range"},
      {"2023-02-29T08:00:00Z", "day 29 does not exist in 2023-02"},
      {"1900-02-29T08:00:00Z", "day 29 does not exist in 1900-02"},
      {"2026-04-31T08:00:00Z", "day 31 does not exist in 2026-04"},
      {"2026-11-00T08:00:00Z", "day 0 does not exist in 2026-11"},
      {"2026-11-24T24:00:00Z", "hour 24 is out of range"},
      {"2026-11-24T08:60:00Z", "minute 60 is out of range"},
      {"2026-11-24T08:00:60Z", "second 60 is out of range"},
  };
  for (const auto& c : cases) {
    auto t = parse_datetime(c.text);
    ASSERT_FALSE(t.has_value()) << "accepted: " << c.text;
    EXPECT_EQ(t.error().kind, error_kind::protocol) << c.text;
    EXPECT_EQ(t.error().message, c.reason) << c.text;
  }
}

TEST(DateTime, FormatsInOwnOffset) {
  EXPECT_EQ(format_datetime({utc(2026, 11, 24, 7, 0, 3), 60}), "2026-11-24T08:00:03+01:00");
  EXPECT_EQ(format_datetime({utc(2026, 11, 24, 7, 0, 3), 0}), "2026-11-24T07:00:03Z");
  EXPECT_EQ(format_datetime({utc(2026, 11, 24, 7, 0, 3), -330}), "2026-11-24T01:30:03-05:30");
  EXPECT_EQ(format_datetime({utc(2026, 11, 24, 20, 0, 0), 540}), "2026-11-25T05:00:00+09:00");
  EXPECT_EQ(format_datetime({utc(2026, 1, 1, 0, 0, 0, 500000), 0}), "2026-01-01T00:00:00.5Z");
  EXPECT_EQ(format_datetime({utc(2026, 1, 1, 0, 0, 0, 123), 0}), "2026-01-01T00:00:00.000123Z");
  EXPECT_EQ(format_datetime({utc(1969, 12, 31, 23, 59, 59, 999999), 0}),
            "1969-12-31T23:59:59.999999Z");
}

TEST(DateTime, FormatThenParseRoundTrips) {
  const int offsets[] = {0, 60, -330, 540, 840, -840, 345};
  const sys_micros instants[] = {utc(2026, 11, 24, 7, 0, 3), utc(2024, 2, 29, 23, 59, 59, 1),
                                 utc(1999, 12, 31, 12, 0, 0, 250000), utc(2026, 3, 29, 1, 30, 0),
                                 utc(1960, 6, 1, 0, 0, 0, 999999)};
  for (int offset : offsets) {
    for (auto instant : instants) {
      local_time t{instant, offset};
      auto text = format_datetime(t);
      auto back = parse_datetime(text);
      ASSERT_TRUE(back.has_value()) << text << ": " << back.error().message;
      EXPECT_EQ(back->utc, t.utc) << text;
      EXPECT_EQ(back->offset_minutes, t.offset_minutes) << text;
      EXPECT_EQ(format_datetime(*back), text);
    }
  }
}

TEST(DateTime, ParseThenFormatKeepsCanonicalText) {
  for (const char* text :
       {"2026-11-24T08:00:03+01:00", "2026-11-24T08:00:03.25-05:30", "2026-11-24T08:00:03Z"}) {
    auto t = parse_datetime(text);
    ASSERT_TRUE(t.has_value()) << text;
    EXPECT_EQ(format_datetime(*t), text);
  }
}

TEST(DateTime, MinuteOfDayUsesOwnOffsetAcrossMidnight) {
  // 23:30 UTC is 08:30 the next day at +09:00 and 18:30 the same day at -05:00.
  auto instant = utc(2026, 11, 24, 23, 30, 0);
  EXPECT_EQ(local_minute_of_day({instant, 0}), 23 * 60 + 30);
  EXPECT_EQ(local_minute_of_day({instant, 540}), 8 * 60 + 30);
  EXPECT_EQ(local_minute_of_day({instant, -300}), 18 * 60 + 30);
  // 00:10 UTC is 23:10 the previous day at -01:00.
  EXPECT_EQ(local_minute_of_day({utc(2026, 11, 25, 0, 10, 59), -60}), 23 * 60 + 10);
  EXPECT_EQ(local_minute_of_day({utc(2026, 11, 24, 14, 59, 59, 999999), 540}), 23 * 60 + 59);
  EXPECT_EQ(local_minute_of_day({utc(2026, 11, 24, 15, 0, 0), 540}), 0);
  // Before the epoch the floor still lands in the same local day.
  EXPECT_EQ(local_minute_of_day({utc(1969, 12, 31, 23, 59, 0), 0}), 1439);
}

// Sets TZ for the scope of a test and restores it afterwards.
class scoped_tz {
 public:
  explicit scoped_tz(const char* tz) {
    if (const char* old = std::getenv("TZ")) old_ = old, had_ = true;
    ::setenv("TZ", tz, 1);
    ::tzset();
  }
  ~scoped_tz() {
    if (had_)
      ::setenv("TZ", old_.c_str(), 1);
    else
      ::unsetenv("TZ");
    ::tzset();
  }

 private:
  std::string old_;
  bool had_ = false;
};

TEST(DateTime, LocalOffsetFollowsZoneRulesAtThatInstant) {
  {
    scoped_tz tz("UTC0");
    EXPECT_EQ(local_offset_minutes(utc(2026, 7, 1, 12, 0, 0)), 0);
  }
  {
    // POSIX rule string, no tzdata needed: CET-1CEST with EU switch dates.
    scoped_tz tz("CET-1CEST,M3.5.0,M10.5.0/3");
    EXPECT_EQ(local_offset_minutes(utc(2026, 1, 15, 12, 0, 0)), 60);
    EXPECT_EQ(local_offset_minutes(utc(2026, 7, 15, 12, 0, 0)), 120);
  }
  {
    scoped_tz tz("IST-5:30");
    EXPECT_EQ(local_offset_minutes(utc(2026, 7, 15, 12, 0, 0)), 330);
  }
}

}  // namespace
}  // namespace iotxmpp
