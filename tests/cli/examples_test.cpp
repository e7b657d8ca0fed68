// The files in examples/ work: the config parses with every key known, the
// rules equal the built-in defaults, the systemd units name real flags and
// pass systemd-analyze where it exists, the poll script runs against a
// server, and the C device builds (and runs where libstrophe is present).

#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "core/iot/rules.hpp"
#include "support/child_process.hpp"
#include "support/cli_help.hpp"
#include "support/process.hpp"
#include "support/test_server.hpp"

namespace {

using namespace iotxmpp::test;

const std::string examples = IOTXMPP_SOURCE_DIR "/examples/";

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
  std::string text = read_text_file(examples + "rules.json");
  while (!text.empty() && text.back() == '\n') text.pop_back();
  std::string defaults = iotxmpp::rules::defaults().to_json();
  while (!defaults.empty() && defaults.back() == '\n') defaults.pop_back();
  EXPECT_EQ(text, defaults) << "regenerate examples/rules.json from rules::defaults().to_json()";
  auto parsed = iotxmpp::rules::from_file(examples + "rules.json");
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_TRUE(*parsed == iotxmpp::rules::defaults());
}

}  // namespace

namespace {

// The lines of `file` that start with `key=`, without the key.
std::vector<std::string> unit_values(const std::string& file, const std::string& key) {
  std::istringstream in(read_text_file(examples + file));
  std::vector<std::string> values;
  for (std::string line; std::getline(in, line);)
    if (line.starts_with(key + "=")) values.push_back(line.substr(key.size() + 1));
  return values;
}

// The ExecStart= command lines of the units are valid iotxmpp invocations.
TEST(CliExamples, UnitsRunValidCommands) {
  for (const char* unit : {"iotxmpp.service", "iotxmpp-reap.service"}) {
    SCOPED_TRACE(unit);
    std::vector<std::string> exec = unit_values(unit, "ExecStart");
    ASSERT_EQ(exec.size(), 1u);
    std::istringstream words(exec[0]);
    std::vector<std::string> args;
    for (std::string w; words >> w;) args.push_back(w);
    ASSERT_EQ(args.at(0), "/usr/bin/iotxmpp");
    args.erase(args.begin());
    args.push_back("--print-config");
    auto r = run_iotxmpp(args, {}, std::chrono::seconds(10), clean_env);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    for (const char* must : {"DynamicUser", "StateDirectory", "NoNewPrivileges", "ProtectSystem"})
      EXPECT_FALSE(unit_values(unit, must).empty()) << must;
  }
  EXPECT_EQ(unit_values("iotxmpp-reap.timer", "OnUnitActiveSec"), std::vector<std::string>{"5min"});
}

// systemd-analyze accepts the units (with the binary under test in place of
// /usr/bin/iotxmpp and no man page lookups).
TEST(CliExamples, UnitsPassSystemdAnalyzeVerify) {
  ASSERT_TRUE(std::filesystem::exists("/usr/bin/systemd-analyze"))
      << "systemd-analyze is not installed: run scripts/setup-deps";
  temp_dir dir;
  std::vector<std::string> args{"systemd-analyze", "verify"};
  for (const char* unit : {"iotxmpp.service", "iotxmpp-reap.service", "iotxmpp-reap.timer"}) {
    std::string text = read_text_file(examples + unit);
    text = std::regex_replace(text, std::regex("/usr/bin/iotxmpp"), IOTXMPP_BINARY);
    text = std::regex_replace(text, std::regex("\nDocumentation=[^\n]*"), "");
    std::ofstream(dir.path() + "/" + unit) << text;
    args.push_back(dir.path() + "/" + unit);
  }
  auto r = run_process(args, {}, std::chrono::seconds(20));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
}

TEST(CliExamples, PollScriptPrintsARecommendationPerOnlineRoom) {
  ASSERT_EQ(run_iotxmpp({"query", "--help"}).exit_code, 0) << "iotxmpp query --help failed";
  test_server server;
  std::string address = "127.0.0.1:" + std::to_string(server.port());
  child_process devices({"simulate", "--server", address, "--count", "2", "--interval", "100ms",
                         "--query-every", "0", "--duration", "5s"});
  // The rooms come from the server (query devices), not the database.
  std::vector<std::string> env{"IOTXMPP_BIN=" IOTXMPP_BINARY, "IOTXMPP_SERVER=" + address,
                               "XDG_CONFIG_HOME=/nonexistent"};
  process_result r;
  // Until both simulated rooms have reported (well under a second).
  for (int i = 0; i < 50; ++i) {
    r = run_process({examples + "poll-recommendations.sh", "--once"}, {}, std::chrono::seconds(10),
                    env);
    if (r.out.find("room-0002 at") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("room-0001 at"), std::string::npos) << r.out << r.err;
  EXPECT_NE(r.out.find("room-0002 at"), std::string::npos) << r.out << r.err;
  EXPECT_NE(r.out.find("temperature"), std::string::npos);
  // Rooms given on the command line need no listing.
  auto given = run_process({examples + "poll-recommendations.sh", "--once", "attic"}, {},
                           std::chrono::seconds(10),
                           {"IOTXMPP_BIN=" IOTXMPP_BINARY, "IOTXMPP_SERVER=" + address});
  EXPECT_EQ(given.exit_code, 0) << given.err;
  EXPECT_EQ(given.out.rfind("attic at ", 0), 0u) << given.out;
  devices.signal(SIGINT);
  devices.wait(std::chrono::seconds(10));
}

// The C device compiles warning-free against libstrophe and, against a
// test server, prints a recommendation per report.
TEST(CliExamples, StropheDeviceBuildsAndReports) {
  ASSERT_EQ(run_process({"pkg-config", "--exists", "libstrophe"}).exit_code, 0)
      << "libstrophe is not installed: run scripts/setup-deps";
  temp_dir dir;
  std::string binary = dir.path() + "/device";
  auto flags = run_process({"pkg-config", "--cflags", "--libs", "libstrophe"});
  std::vector<std::string> cc{"cc",      "-std=c11", "-Wall", "-Wextra",
                              "-Werror", "-o",       binary,  examples + "device.c"};
  std::istringstream words(flags.out);
  for (std::string w; words >> w;) cc.push_back(w);
  auto built = run_process(cc, {}, std::chrono::seconds(30));
  ASSERT_EQ(built.exit_code, 0) << built.err;

  test_server server;
  auto r = run_process({binary, "127.0.0.1", std::to_string(server.port()), "kitchen", "2", "0.1"},
                       {}, std::chrono::seconds(10));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(r.out);
  int answers = 0;
  for (std::string line; std::getline(lines, line);) {
    EXPECT_TRUE(line.starts_with("kitchen (")) << line;
    EXPECT_NE(line.find("temperature=21°C:raise"), std::string::npos) << line;
    ++answers;
  }
  EXPECT_EQ(answers, 2);
}

}  // namespace
