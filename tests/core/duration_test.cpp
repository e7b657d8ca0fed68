#include "core/base/duration.hpp"

#include <gtest/gtest.h>

namespace iotxmpp {
namespace {

using namespace std::chrono_literals;

TEST(Duration, ParsesUnitsSumsAndBareSeconds) {
  EXPECT_EQ(parse_duration("250ms").value(), 250ms);
  EXPECT_EQ(parse_duration("30s").value(), 30s);
  EXPECT_EQ(parse_duration("5m").value(), 5min);
  EXPECT_EQ(parse_duration("2h").value(), 2h);
  EXPECT_EQ(parse_duration("1h30m").value(), 90min);
  EXPECT_EQ(parse_duration("1m500ms").value(), 60500ms);
  EXPECT_EQ(parse_duration("90").value(), 90s);
  EXPECT_EQ(parse_duration("0s").value(), 0s);
}

TEST(Duration, RefusesWithTheReason) {
  struct {
    const char* text;
    const char* why;
  } cases[] = {{"", "empty"},
               {"5x", "unknown unit 'x'"},
               {"-5m", "negative"},
               {"m", "expected a number"},
               {"5m3", "missing unit"},
               {"5 m", "unknown unit ' m'"},
               {"99999999999999999999s", "too large"},
               {"9999999999999h", "too large"}};
  for (const auto& c : cases) {
    auto d = parse_duration(c.text);
    ASSERT_FALSE(d) << c.text;
    EXPECT_EQ(d.error().kind, error_kind::usage);
    EXPECT_NE(d.error().message.find(c.why), std::string::npos)
        << c.text << ": " << d.error().message;
  }
}

TEST(Duration, FormatsTheShortestTextThatParsesBack) {
  EXPECT_EQ(format_duration(5min), "5m");
  EXPECT_EQ(format_duration(90min), "1h30m");
  EXPECT_EQ(format_duration(250ms), "250ms");
  EXPECT_EQ(format_duration(0s), "0s");
  EXPECT_EQ(format_duration(999us), "0s");
  for (std::chrono::microseconds d : {1000us, 61000000us, 3601000000us, 86400001000us})
    EXPECT_EQ(parse_duration(format_duration(d)).value(), d);
}

}  // namespace
}  // namespace iotxmpp
