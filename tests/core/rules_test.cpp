// Recommendation rules (PROTOCOL.md §3.3): periods, actions, the JSON rules
// file with its error messages, and the <recommend> payload.

#include "core/iot/rules.hpp"

#include <gtest/gtest.h>
#include <pugixml.hpp>

#include <chrono>

#include "core/model/datetime.hpp"

namespace iotxmpp {
namespace {

using namespace std::chrono;

const sys_days day0 = 2026y / 11 / 24;

std::string name_at(const rules& r, int hour, int minute) {
  return r.period_at(hour * 60 + minute).name;
}

TEST(Rules, DefaultsCoverEveryMinuteOfTheDay) {
  auto r = rules::defaults();
  ASSERT_EQ(r.periods().size(), 4u);
  for (int m = 0; m < 1440; ++m) {
    const char* expected = m < 6 * 60    ? "night"
                           : m < 9 * 60  ? "morning"
                           : m < 18 * 60 ? "day"
                           : m < 22 * 60 ? "evening"
                                         : "night";
    EXPECT_EQ(r.period_at(m).name, expected) << "minute " << m;
    EXPECT_EQ(r.period_at(m).quantities.size(), 3u);
  }
  for (std::size_t i = 1; i < r.periods().size(); ++i)
    EXPECT_LT(r.periods()[i - 1].start_minute, r.periods()[i].start_minute);
  // Out-of-range minutes wrap instead of reading out of bounds.
  EXPECT_EQ(r.period_at(1440 + 7 * 60).name, "morning");
  EXPECT_EQ(r.period_at(-1).name, "night");
}

TEST(Rules, DefaultTargetsAreTheDocumentedOnes) {
  auto r = rules::defaults();
  const auto& morning = r.period_at(6 * 60);
  ASSERT_EQ(morning.quantities.size(), 3u);
  EXPECT_EQ(morning.quantities[0], (quantity_rule{"temperature", 21, 1, "°C"}));
  EXPECT_EQ(morning.quantities[1], (quantity_rule{"humidity", 45, 10, "%"}));
  EXPECT_EQ(morning.quantities[2], (quantity_rule{"brightness", 300, 100, "lx"}));
  EXPECT_EQ(r.period_at(23 * 60).quantities[0].target, 18);
  EXPECT_EQ(r.period_at(23 * 60).quantities[2].target, 0);
  EXPECT_EQ(r.period_at(12 * 60).quantities[2].target, 500);
  EXPECT_EQ(r.period_at(20 * 60).quantities[2].target, 200);
}

status_report report_in(int offset_minutes, std::vector<reading_value> values) {
  status_report s;
  s.room = "kitchen";
  s.taken_at = {day0 + 1h, offset_minutes};
  s.values = std::move(values);
  return s;
}

TEST(Rules, PeriodFollowsTheRoomsLocalTime) {
  auto r = rules::defaults();
  auto latest = report_in(540, {{"temperature", 21, "°C"}});  // +09:00
  struct boundary {
    int utc_hour, utc_minute;
    const char* local;
    const char* period;
  };
  // Local = UTC + 9h: 20:59 UTC is 05:59 the next morning there.
  const boundary cases[] = {
      {20, 59, "2026-11-25T05:59:00+09:00", "night"},
      {21, 0, "2026-11-25T06:00:00+09:00", "morning"},
      {23, 59, "2026-11-25T08:59:00+09:00", "morning"},
      {0, 0, "2026-11-24T09:00:00+09:00", "day"},
      {8, 59, "2026-11-24T17:59:00+09:00", "day"},
      {9, 0, "2026-11-24T18:00:00+09:00", "evening"},
      {12, 59, "2026-11-24T21:59:00+09:00", "evening"},
      {13, 0, "2026-11-24T22:00:00+09:00", "night"},
  };
  for (const auto& c : cases) {
    auto now = day0 + hours{c.utc_hour} + minutes{c.utc_minute};
    auto rec = r.recommend("kitchen", "a@b/c", &latest, now, /*server offset*/ 60);
    EXPECT_EQ(format_datetime(rec.at), c.local);
    EXPECT_EQ(rec.at.utc, now);
    EXPECT_EQ(rec.period, c.period) << c.local;
  }
}

TEST(Rules, ActionsCompareTheLatestReading) {
  auto r = rules::defaults();
  auto now = day0 + 7h;  // 08:00 at +01:00: morning, 21±1 °C, 45±10 %, 300±100 lx
  struct action_case {
    std::string_view quantity;
    double reading;
    const char* action;
  };
  const action_case cases[] = {
      {"temperature", 19.99, "raise"}, {"temperature", 20, "hold"},     {"temperature", 21, "hold"},
      {"temperature", 22, "hold"},     {"temperature", 22.01, "lower"}, {"humidity", 34.9, "raise"},
      {"humidity", 55, "hold"},        {"humidity", 55.5, "lower"},     {"brightness", 0, "raise"},
      {"brightness", 400, "hold"},     {"brightness", 401, "lower"},
  };
  for (const auto& c : cases) {
    auto latest = report_in(60, {{std::string(c.quantity), c.reading, ""}, {"co2", 600, ""}});
    auto rec = r.recommend("kitchen", "a@b/c", &latest, now, 0);
    ASSERT_EQ(rec.period, "morning");
    ASSERT_EQ(rec.targets.size(), 3u);
    for (const auto& t : rec.targets) {
      const char* expected = t.name == c.quantity ? c.action : "unknown";
      EXPECT_EQ(t.action, expected) << t.name << " with " << c.quantity << "=" << c.reading;
    }
  }
}

TEST(Rules, RecommendationCarriesRoomAskerTargetsAndUnits) {
  auto r = rules::defaults();
  auto latest = report_in(
      60, {{"temperature", 25, "°C"}, {"humidity", 40.2, "%"}, {"brightness", 310, "lx"}});
  auto rec = r.recommend("kitchen", "dev@iot.local/x", &latest, day0 + 7h + 3s, -300);
  EXPECT_EQ(rec.room, "kitchen");
  EXPECT_EQ(rec.asked_by, "dev@iot.local/x");
  EXPECT_EQ(format_datetime(rec.at), "2026-11-24T08:00:03+01:00");
  EXPECT_EQ(rec.period, "morning");
  ASSERT_EQ(rec.targets.size(), 3u);
  EXPECT_EQ(rec.targets[0].name, "temperature");
  EXPECT_EQ(rec.targets[0].value, 21);
  EXPECT_EQ(rec.targets[0].unit, "°C");
  EXPECT_EQ(rec.targets[0].action, "lower");
  EXPECT_EQ(rec.targets[1].action, "hold");
  EXPECT_EQ(rec.targets[2].action, "hold");
  EXPECT_EQ(rec.targets[2].unit, "lx");
}

TEST(Rules, DecimalReadingOnTheToleranceBoundaryHolds) {
  auto r = rules::from_json_text(
      R"({"periods":[{"name":"all","start":"00:00","targets":{"t":{"value":21,"tolerance":1.1}}}]})",
      "t.json");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  for (double reading : {19.9, 22.1}) {
    auto latest = report_in(0, {{"t", reading, ""}});
    EXPECT_EQ(r->recommend("k", "a", &latest, day0, 0).targets.at(0).action, "hold") << reading;
  }
  auto latest = report_in(0, {{"t", 19.89, ""}});
  EXPECT_EQ(r->recommend("k", "a", &latest, day0, 0).targets.at(0).action, "raise");
}

TEST(Rules, UnknownRoomIsAnsweredInServerTimeWithEveryActionUnknown) {
  auto r = rules::defaults();
  // 21:30 UTC is 06:30 at the server's +09:00: morning, though night in UTC.
  auto rec = r.recommend("nowhere", "a@b/c", nullptr, day0 + 21h + 30min, 540);
  EXPECT_EQ(rec.room, "nowhere");
  EXPECT_EQ(rec.at.offset_minutes, 540);
  EXPECT_EQ(format_datetime(rec.at), "2026-11-25T06:30:00+09:00");
  EXPECT_EQ(rec.period, "morning");
  ASSERT_EQ(rec.targets.size(), 3u);
  for (const auto& t : rec.targets) EXPECT_EQ(t.action, "unknown") << t.name;
  EXPECT_EQ(rec.targets[0].value, 21);
}

TEST(Rules, JsonPeriodsAnyOrderTargetsInFileOrderUnitsDefaulted) {
  auto r = rules::from_json_text(R"({
    // Comments are allowed: the file is edited by hand.
    "periods": [
      {"name": "late", "start": "20:30", "targets": {}},
      {"name": "early", "start": "05:15",
       "targets": {"humidity": {"value": 50, "tolerance": 5},
                   "temperature": {"value": 20.5, "tolerance": 0.5},
                   "co2": {"value": 800, "tolerance": 200},
                   "noise": {"value": 30, "tolerance": 10, "unit": "dB"}}}
    ]})",
                                 "mine.json");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  ASSERT_EQ(r->periods().size(), 2u);
  EXPECT_EQ(r->periods()[0].name, "early");
  EXPECT_EQ(r->periods()[0].start_minute, 5 * 60 + 15);
  EXPECT_EQ(r->periods()[1].name, "late");
  const auto& q = r->periods()[0].quantities;
  ASSERT_EQ(q.size(), 4u);
  EXPECT_EQ(q[0], (quantity_rule{"humidity", 50, 5, "%"}));
  EXPECT_EQ(q[1], (quantity_rule{"temperature", 20.5, 0.5, "°C"}));
  EXPECT_EQ(q[2], (quantity_rule{"co2", 800, 200, ""}));
  EXPECT_EQ(q[3], (quantity_rule{"noise", 30, 10, "dB"}));
  EXPECT_EQ(name_at(*r, 5, 14), "late");
  EXPECT_EQ(name_at(*r, 5, 15), "early");
  EXPECT_EQ(name_at(*r, 20, 29), "early");
  EXPECT_EQ(name_at(*r, 20, 30), "late");
}

TEST(Rules, SinglePeriodCoversTheWholeDay) {
  auto r = rules::from_json_text(R"({"periods":[{"name":"always","start":"12:00","targets":{}}]})",
                                 "one.json");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  for (int m : {0, 719, 720, 1439}) EXPECT_EQ(r->period_at(m).name, "always");
}

struct json_error_case {
  std::string text;
  std::string message;
};

TEST(Rules, JsonErrorsArePrecise) {
  auto with_target = [](const std::string& target) {
    return R"({"periods":[{"name":"n","start":"00:00","targets":{"humidity":)" + target + "}}]}";
  };
  const std::string ok_period = R"({"name":"a","start":"06:00","targets":{}})";
  const json_error_case cases[] = {
      {"",
       "rules.json:1:1: invalid JSON: syntax error while parsing value - unexpected end of "
       "input; expected '[', '{', or a literal"},
      {"{\n  \"periods\": [\n    {\"name\" \"x\"}\n  ]\n}",
       "rules.json:3:15: invalid JSON: syntax error while parsing object separator - unexpected "
       "string literal; expected ':'"},
      {"{\"periods\": []} trailing",
       "rules.json:1:19: invalid JSON: syntax error while parsing value - invalid literal; last "
       "read: '\"periods\": []} tra'; expected end of input"},
      {"[1, 2]", "rules.json: expected an object with \"periods\", got [1,2]"},
      {"{}", "rules.json: missing key \"periods\" (a list of periods)"},
      {R"({"periods": [], "extra": 1})", "rules.json: extra: unknown key (expected periods)"},
      {R"({"periods": {}})", "rules.json: periods: expected an array of periods, got {}"},
      {R"({"periods": []})", "rules.json: periods: expected at least one period, got []"},
      {R"({"periods": [3]})",
       "rules.json: periods[0]: expected an object with name, start and targets, got 3"},
      {R"({"periods": [{"name":"a","strat":"06:00","targets":{}}]})",
       "rules.json: periods[0].strat: unknown key (expected name, start, targets)"},
      {R"({"periods": [{"name":"a","targets":{}}]})",
       "rules.json: periods[0]: missing key \"start\""},
      {R"({"periods": [{"name":"","start":"06:00","targets":{}}]})",
       "rules.json: periods[0].name: expected a non-empty string, got \"\""},
      {R"({"periods": [{"name":7,"start":"06:00","targets":{}}]})",
       "rules.json: periods[0].name: expected a non-empty string, got 7"},
      {R"({"periods": [{"name":"a","start":"6:00","targets":{}}]})",
       "rules.json: periods[0].start: expected \"HH:MM\" from 00:00 to 23:59, got \"6:00\""},
      {R"({"periods": [{"name":"a","start":"24:00","targets":{}}]})",
       "rules.json: periods[0].start: expected \"HH:MM\" from 00:00 to 23:59, got \"24:00\""},
      {R"({"periods": [{"name":"a","start":"06:60","targets":{}}]})",
       "rules.json: periods[0].start: expected \"HH:MM\" from 00:00 to 23:59, got \"06:60\""},
      {R"({"periods": [{"name":"a","start":"ab:cd","targets":{}}]})",
       "rules.json: periods[0].start: expected \"HH:MM\" from 00:00 to 23:59, got \"ab:cd\""},
      {R"({"periods": [{"name":"a","start":600,"targets":{}}]})",
       "rules.json: periods[0].start: expected \"HH:MM\" from 00:00 to 23:59, got 600"},
      {R"({"periods": [{"name":"a","start":"06:00","targets":[]}]})",
       "rules.json: periods[0].targets: expected an object of quantity targets, got []"},
      {"{\"periods\": [" + ok_period + ", " + ok_period + "]}",
       "rules.json: periods[1].name: duplicate period name \"a\" (also periods[0])"},
      {"{\"periods\": [" + ok_period + R"(, {"name":"b","start":"06:00","targets":{}}]})",
       "rules.json: periods[1].start: \"06:00\" is already the start of periods[0] (\"a\")"},
      {with_target("5"),
       "rules.json: periods[0].targets.humidity: expected an object with value and tolerance, "
       "got 5"},
      {with_target(R"({"value":45})"),
       "rules.json: periods[0].targets.humidity: missing key \"tolerance\""},
      {with_target(R"({"tolerance":1})"),
       "rules.json: periods[0].targets.humidity: missing key \"value\""},
      {with_target(R"({"value":"45","tolerance":1})"),
       "rules.json: periods[0].targets.humidity.value: expected a number, got \"45\""},
      {with_target(R"({"value":45,"tolerance":"x"})"),
       "rules.json: periods[0].targets.humidity.tolerance: expected a non-negative number, got "
       "\"x\""},
      {with_target(R"({"value":45,"tolerance":-1})"),
       "rules.json: periods[0].targets.humidity.tolerance: expected a non-negative number, got "
       "-1"},
      {with_target(R"({"value":45,"tolerance":true})"),
       "rules.json: periods[0].targets.humidity.tolerance: expected a non-negative number, got "
       "true"},
      {with_target(R"({"value":45,"tolerance":1,"unit":null})"),
       "rules.json: periods[0].targets.humidity.unit: expected a string, got null"},
      {with_target(R"({"value":45,"tolerance":1,"tolerence":2})"),
       "rules.json: periods[0].targets.humidity.tolerence: unknown key (expected value, "
       "tolerance, unit)"},
      {with_target(R"({"value":45,"tolerance":1,"value":2})"),
       "rules.json: periods[0].targets.humidity.value: duplicate key"},
      {R"({"periods":[{"name":"n","start":"00:00","targets":{"":{"value":1,"tolerance":1}}}]})",
       "rules.json: periods[0].targets: empty quantity name"},
      {R"({"periods":[{"name":"n","start":"00:00","targets":{"x":{"value":"a very long string )"
       R"(that goes on and on and on","tolerance":1}}}]})",
       "rules.json: periods[0].targets.x.value: expected a number, got \"a very long string that "
       "goes on and on ..."},
  };
  for (const auto& c : cases) {
    auto r = rules::from_json_text(c.text, "rules.json");
    ASSERT_FALSE(r.has_value()) << "accepted: " << c.text;
    EXPECT_EQ(r.error().kind, error_kind::usage) << c.text;
    EXPECT_EQ(r.error().message, c.message) << c.text;
  }
}

TEST(Rules, DuplicateKeyPathCountsArrayElements) {
  auto r = rules::from_json_text(R"({"periods":[{"name":"a","start":"01:00","targets":{}},)"
                                 R"({"name":"b","start":"02:00","targets":{},"name":"c"}]})",
                                 "f.json");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message, "f.json: periods[1].name: duplicate key");
}

TEST(Rules, FileErrorsNameTheFile) {
  auto missing = rules::from_file("/nonexistent/rules.json");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().kind, error_kind::usage);
  EXPECT_EQ(missing.error().message,
            "cannot read /nonexistent/rules.json: No such file or directory");
  auto directory = rules::from_file(IOTXMPP_SOURCE_DIR "/examples");
  ASSERT_FALSE(directory.has_value());
  EXPECT_EQ(directory.error().message,
            "cannot read " IOTXMPP_SOURCE_DIR "/examples: Is a directory");
}

TEST(Rules, ExampleFileEqualsTheDefaults) {
  auto r = rules::from_file(IOTXMPP_SOURCE_DIR "/examples/rules.json");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_TRUE(*r == rules::defaults()) << r->to_json();
}

TEST(Rules, ToJsonReadsBackEqual) {
  auto defaults = rules::defaults();
  auto text = defaults.to_json();
  EXPECT_NE(text.find("\"value\": 18,"), std::string::npos) << text;  // not 18.0
  EXPECT_NE(text.find("\"unit\": \"°C\""), std::string::npos) << text;
  auto back = rules::from_json_text(text, "generated");
  ASSERT_TRUE(back.has_value()) << back.error().message;
  EXPECT_TRUE(*back == defaults);

  auto custom = rules::from_json_text(
      R"({"periods":[{"name":"x & y","start":"23:59","targets":{"t":{"value":-0.25,"tolerance":0.1,"unit":""}}}]})",
      "c");
  ASSERT_TRUE(custom.has_value()) << custom.error().message;
  auto again = rules::from_json_text(custom->to_json(), "c2");
  ASSERT_TRUE(again.has_value()) << again.error().message;
  EXPECT_TRUE(*again == *custom) << custom->to_json();
}

TEST(Rules, RecommendPayloadMatchesProtocolExample) {
  recommendation rec;
  rec.room = "kitchen";
  rec.asked_by = "dev@iot.local/x";
  rec.at = {day0 + 7h + 3s, 60};
  rec.period = "morning";
  rec.targets = {{"temperature", 21, "°C", "raise"},
                 {"humidity", 45, "%", "hold"},
                 {"brightness", 300, "lx", "lower"}};
  std::string out;
  write_recommend_payload(rec, out);
  EXPECT_EQ(out,
            "<recommend xmlns='urn:iotxmpp:recommend:0' room='kitchen' "
            "at='2026-11-24T08:00:03+01:00' period='morning'>"
            "<target name='temperature' value='21' unit='°C' action='raise'/>"
            "<target name='humidity' value='45' unit='%' action='hold'/>"
            "<target name='brightness' value='300' unit='lx' action='lower'/>"
            "</recommend>");

  // The same structure as PROTOCOL.md §3.3, checked through a parser.
  const char* example = R"(<iq type='result' id='r1' from='iot.local' to='x'>
  <recommend xmlns='urn:iotxmpp:recommend:0' room='kitchen'
             at='2026-11-24T08:00:03+01:00' period='morning'>
    <target name='temperature' value='21' unit='°C' action='raise'/>
    <target name='humidity' value='45' unit='%' action='hold'/>
    <target name='brightness' value='300' unit='lx' action='lower'/>
  </recommend>
</iq>)";
  pugi::xml_document want, got;
  ASSERT_TRUE(want.load_string(example));
  ASSERT_TRUE(got.load_string(out.c_str()));
  auto w = want.document_element().child("recommend");
  auto g = got.document_element();
  ASSERT_STREQ(g.name(), "recommend");
  for (const char* a : {"xmlns", "room", "at", "period"})
    EXPECT_STREQ(g.attribute(a).value(), w.attribute(a).value()) << a;
  auto wt = w.children("target").begin();
  std::size_t n = 0;
  for (auto t : g.children("target")) {
    ASSERT_NE(wt, w.children("target").end());
    for (const char* a : {"name", "value", "unit", "action"})
      EXPECT_STREQ(t.attribute(a).value(), wt->attribute(a).value()) << a;
    ++wt, ++n;
  }
  EXPECT_EQ(n, 3u);
}

TEST(Rules, RecommendPayloadEscapesAndPrintsShortNumbers) {
  recommendation rec;
  rec.room = "Tom's <&> \"room\"";
  rec.at = {day0, 0};
  rec.period = "day";
  rec.targets = {{"temperature", 21.5, "°C", "hold"}, {"x", 0.1, "", "unknown"}};
  std::string out;
  write_recommend_payload(rec, out);
  EXPECT_EQ(out,
            "<recommend xmlns='urn:iotxmpp:recommend:0' room='Tom&apos;s &lt;&amp;&gt; "
            "&quot;room&quot;' at='2026-11-24T00:00:00Z' period='day'>"
            "<target name='temperature' value='21.5' unit='°C' action='hold'/>"
            "<target name='x' value='0.1' unit='' action='unknown'/></recommend>");
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(out.c_str()));
  EXPECT_STREQ(doc.document_element().attribute("room").value(), rec.room.c_str());

  rec.targets.clear();
  out.clear();
  write_recommend_payload(rec, out);
  EXPECT_EQ(out.substr(out.size() - 2), "/>");
}

}  // namespace
}  // namespace iotxmpp
