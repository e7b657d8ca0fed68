// Every duration flag goes through one check (src/cli/duration_option.hpp):
// the same syntax, the same zero rule, and an error that names the flag,
// whether the value comes from the command line, the environment or a file.
// Observed through --print-config, which parses and validates without running.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "support/process.hpp"
#include "support/test_server.hpp"

using iotxmpp::test::process_result;
using iotxmpp::test::run_iotxmpp;

namespace {

struct flag {
  std::vector<std::string> subcommand;
  std::string name;
};

// 0 has no meaning for these: a timeout, a period or a window.
const std::vector<flag> zero_refused{
    {{"serve"}, "--stale-after"},     {{"serve"}, "--reap-every"},
    {{"serve"}, "--idle-timeout"},    {{"serve"}, "--negotiation-timeout"},
    {{"query", "ping"}, "--timeout"}, {{"send", "presence"}, "--timeout"},
    {{"tail"}, "--timeout"},          {{"simulate"}, "--timeout"},
};

// Their help says what 0 means.
const std::vector<flag> zero_allowed{
    {{"simulate"}, "--interval"}, {{"simulate"}, "--jitter"},  {{"simulate"}, "--query-every"},
    {{"simulate"}, "--duration"}, {{"reap"}, "--stale-after"},
};

process_result run_with(const flag& f, const std::string& value,
                        std::vector<std::string> env = {}) {
  std::vector<std::string> args = f.subcommand;
  if (!value.empty() || env.empty()) {
    args.push_back(f.name);
    args.push_back(value);
  }
  args.push_back("--print-config");
  env.insert(env.end(), {"IOTXMPP_CONFIG=", "HOME=/nonexistent", "XDG_CONFIG_HOME="});
  return run_iotxmpp(args, {}, std::chrono::seconds(10), env);
}

std::string env_name(const std::string& flag_name) {
  std::string env = "IOTXMPP_";
  for (char c : flag_name.substr(2)) env += c == '-' ? '_' : static_cast<char>(std::toupper(c));
  return env;
}

TEST(CliDurationFlags, EveryFlagReadsTheSameSyntax) {
  std::vector<flag> all = zero_refused;
  all.insert(all.end(), zero_allowed.begin(), zero_allowed.end());
  for (const flag& f : all)
    for (const char* good : {"250ms", "30s", "5m", "1h30m", "90"}) {
      auto r = run_with(f, good);
      EXPECT_EQ(r.exit_code, 0) << f.name << " " << good << ": " << r.err;
    }
}

TEST(CliDurationFlags, BadTextIsAUsageErrorNamingTheFlag) {
  std::vector<flag> all = zero_refused;
  all.insert(all.end(), zero_allowed.begin(), zero_allowed.end());
  for (const flag& f : all)
    for (const char* bad : {"5x", "5 m", "m", "1.5s"}) {
      auto r = run_with(f, bad);
      EXPECT_EQ(r.exit_code, 2) << f.name << " " << bad;
      EXPECT_EQ(r.out, "");
      EXPECT_EQ(r.err.rfind("iotxmpp: " + f.name + ": bad duration '" + bad + "'", 0), 0u) << r.err;
      EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    }
}

TEST(CliDurationFlags, ZeroIsRefusedWhereItMeansNothing) {
  for (const flag& f : zero_refused)
    for (const char* zero : {"0", "0s", "0ms", "0h0m"}) {
      auto r = run_with(f, zero);
      EXPECT_EQ(r.exit_code, 2) << f.name << " " << zero;
      EXPECT_EQ(r.err.rfind("iotxmpp: " + f.name + ": must be more than 0", 0), 0u) << r.err;
    }
}

TEST(CliDurationFlags, ZeroIsAcceptedWhereTheHelpSaysWhatItMeans) {
  for (const flag& f : zero_allowed) {
    auto r = run_with(f, "0");
    EXPECT_EQ(r.exit_code, 0) << f.name << ": " << r.err;
    auto help = run_iotxmpp({f.subcommand[0], "--help"});
    std::string line = help.out.substr(help.out.find(f.name));
    EXPECT_NE(line.substr(0, line.find("\n  -")).find("0: "), std::string::npos)
        << f.name << " does not say what 0 means";
  }
}

TEST(CliDurationFlags, EnvironmentValuesAreCheckedAndNamed) {
  for (const flag& f : zero_refused) {
    auto r = run_with(f, "", {env_name(f.name) + "=0"});
    EXPECT_EQ(r.exit_code, 2) << f.name;
    EXPECT_EQ(r.err.rfind("iotxmpp: " + f.name + ": must be more than 0", 0), 0u) << r.err;
  }
  auto r = run_with({{"reap"}, "--stale-after"}, "", {"IOTXMPP_STALE_AFTER=5x"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err.rfind("iotxmpp: --stale-after: bad duration '5x'", 0), 0u) << r.err;
}

TEST(CliDurationFlags, ConfigFileValuesAreCheckedAndNamed) {
  iotxmpp::test::temp_dir dir;
  std::string file = dir.path() + "/c.toml";
  std::ofstream(file) << "[serve]\nidle-timeout = \"0s\"\n";
  auto r = run_iotxmpp({"--config", file, "serve", "--print-config"}, {}, std::chrono::seconds(10),
                       {"IOTXMPP_IDLE_TIMEOUT="});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err.rfind("iotxmpp: --idle-timeout: must be more than 0", 0), 0u) << r.err;
}

}  // namespace
