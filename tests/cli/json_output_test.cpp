// The one --json printer (src/cli/json_output.hpp): compact, keys in the
// order written, and invalid UTF-8 replaced instead of thrown.

#include "cli/json_output.hpp"

#include <gtest/gtest.h>

namespace iotxmpp::cli {
namespace {

TEST(CliJsonOutput, CompactWithKeysInTheOrderWritten) {
  json_value j{{"zeta", 1}, {"alpha", {{"b", true}, {"a", nullptr}}}, {"list", {1.5, "x"}}};
  EXPECT_EQ(json_text(j), R"({"zeta":1,"alpha":{"b":true,"a":null},"list":[1.5,"x"]})");
}

TEST(CliJsonOutput, InvalidUtf8InAValueOrKeyBecomesFffdInsteadOfThrowing) {
  json_value j{{"status",
                "on\xFF"
                "fire \xC3"},
               {"k\x80", "ok \xC3\xA9"}};
  // nlohmann's own dump() throws type_error 316 on the same value.
  EXPECT_THROW((void)j.dump(), nlohmann::json::type_error);
  std::string text;
  ASSERT_NO_THROW(text = json_text(j));
  EXPECT_EQ(text,
            "{\"status\":\"on\xEF\xBF\xBD"
            "fire \xEF\xBF\xBD\",\"k\xEF\xBF\xBD\":\"ok \xC3\xA9\"}");
  auto back = nlohmann::ordered_json::parse(text);  // valid JSON, valid UTF-8
  EXPECT_EQ(back["status"],
            "on\xEF\xBF\xBD"
            "fire \xEF\xBF\xBD");
}

}  // namespace
}  // namespace iotxmpp::cli
