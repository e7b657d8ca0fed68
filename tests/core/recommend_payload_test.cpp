// The recommend payload: what the server writes, clients read back exactly.

#include "core/iot/recommend_payload.hpp"

#include <gtest/gtest.h>

#include <pugixml.hpp>

#include "core/model/datetime.hpp"

namespace iotxmpp {
namespace {

result<recommendation> round_trip(const recommendation& r, std::string* text = nullptr) {
  std::string out;
  write_recommend_payload(r, out);
  if (text) *text = out;
  pugi::xml_document doc;
  if (!doc.load_buffer(out.data(), out.size()))
    return fail(error_kind::internal, "not XML: " + out);
  return parse_recommend_payload(xml_element::from(doc.first_child()));
}

TEST(RecommendPayload, RoundTripsEveryField) {
  recommendation r;
  r.room = "kitchen <&> 'north'";
  r.at = *parse_datetime("2026-11-24T08:00:03.250+01:00");
  r.period = "morning";
  r.targets = {{"temperature", 21, "°C", "raise"},
               {"humidity", 45.5, "%", "hold"},
               {"brightness", 0.1, "lx", "unknown"},
               {"pressure", -1e+21, "", "lower"}};
  std::string text;
  auto back = round_trip(r, &text);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(text.rfind("<recommend xmlns='urn:iotxmpp:recommend:0' room=", 0), 0u) << text;
  EXPECT_EQ(back->room, r.room);
  EXPECT_EQ(back->period, r.period);
  EXPECT_EQ(back->at.utc, r.at.utc);
  EXPECT_EQ(back->at.offset_minutes, 60);
  EXPECT_EQ(back->asked_by, "");
  ASSERT_EQ(back->targets.size(), r.targets.size());
  for (std::size_t i = 0; i < r.targets.size(); ++i) {
    EXPECT_EQ(back->targets[i].name, r.targets[i].name);
    EXPECT_EQ(back->targets[i].value, r.targets[i].value);  // exact: shortest round-trip form
    EXPECT_EQ(back->targets[i].unit, r.targets[i].unit);
    EXPECT_EQ(back->targets[i].action, r.targets[i].action);
  }
}

TEST(RecommendPayload, NoTargetsIsAnEmptyElement) {
  recommendation r;
  r.room = "attic";
  r.at = *parse_datetime("2026-11-24T23:59:59Z");
  r.period = "night";
  std::string text;
  auto back = round_trip(r, &text);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_TRUE(text.ends_with("/>")) << text;
  EXPECT_TRUE(back->targets.empty());
  EXPECT_EQ(back->room, "attic");
}

TEST(RecommendPayload, RefusesBadAtAndBadTargets) {
  pugi::xml_document doc;
  for (const char* bad :
       {"<recommend room='x' at='yesterday'/>",
        "<recommend room='x' at='2026-11-24T08:00:03Z'><target name='t' value='hot'/></recommend>",
        "<recommend room='x' at='2026-11-24T08:00:03Z'><target value='1'/></recommend>",
        "<recommend room='x' at='2026-11-24T08:00:03Z'><target name='t' value='inf'/></recommend>",
        "<recommend room='x' at='2026-11-24T08:00:03Z'><target name='t' "
        "value='1x'/></recommend>"}) {
    ASSERT_TRUE(doc.load_string(bad)) << bad;
    auto r = parse_recommend_payload(xml_element::from(doc.first_child()));
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().kind, error_kind::protocol) << bad;
  }
}

}  // namespace
}  // namespace iotxmpp
