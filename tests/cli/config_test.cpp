// Options from a config file and IOTXMPP_* variables (src/cli/config_file.cpp):
// precedence flag > environment > file > default, unknown keys, default path.
// Observed through `--print-config`, which prints the effective options.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "support/process.hpp"
#include "support/test_server.hpp"

using iotxmpp::test::process_result;
using iotxmpp::test::run_iotxmpp;
using iotxmpp::test::temp_dir;

namespace {

class CliConfig : public ::testing::Test {
 protected:
  // Writes `text` to a file in the temporary directory and returns its path.
  std::string write(const std::string& name, const std::string& text) {
    std::string path = dir_.path() + "/" + name;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream(path) << text;
    return path;
  }

  // Runs iotxmpp with no user config file and no inherited option variables
  // (an empty variable counts as unset), plus `env`.
  process_result run(std::vector<std::string> args, std::vector<std::string> env = {}) {
    std::vector<std::string> all{"XDG_CONFIG_HOME=" + dir_.path() + "/xdg",
                                 "HOME=" + dir_.path(),
                                 "IOTXMPP_CONFIG=",
                                 "IOTXMPP_STALE_AFTER=",
                                 "IOTXMPP_DB=",
                                 "IOTXMPP_LOG_LEVEL="};
    all.insert(all.end(), env.begin(), env.end());
    return run_iotxmpp(std::move(args), {}, std::chrono::seconds(10), all);
  }

  // The line "key=..." of a --print-config output, or "" when missing.
  static std::string line_of(const std::string& out, const std::string& key) {
    std::size_t at = out.find("\n" + key + "=");
    if (at == std::string::npos) return {};
    return out.substr(at + 1, out.find('\n', at + 1) - at - 1);
  }

  temp_dir dir_;
};

TEST_F(CliConfig, DefaultsWithoutFileOrEnvironment) {
  auto r = run({"reap", "--print-config"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("[reap]\n", 0), 0u) << r.out;
  EXPECT_EQ(line_of(r.out, "stale-after"), "stale-after=\"5m\"");
  EXPECT_EQ(line_of(r.out, "db"), "db=\"sqlite:iotxmpp.db\"");
}

TEST_F(CliConfig, PrecedenceIsFlagThenEnvironmentThenFileThenDefault) {
  std::string file = write("c.toml", "[reap]\nstale-after = \"1h\"\ndb = \"sqlite:file.db\"\n");
  // file > default
  auto r = run({"--config", file, "reap", "--print-config"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(line_of(r.out, "stale-after"), "stale-after=\"1h\"");
  // environment > file (a generated variable and a declared one)
  r = run({"--config", file, "reap", "--print-config"},
          {"IOTXMPP_STALE_AFTER=2h", "IOTXMPP_DB=sqlite:env.db"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(line_of(r.out, "stale-after"), "stale-after=\"2h\"");
  EXPECT_EQ(line_of(r.out, "db"), "db=\"sqlite:env.db\"");
  // flag > environment
  r = run({"--config", file, "reap", "--stale-after", "3h", "--print-config"},
          {"IOTXMPP_STALE_AFTER=2h"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(line_of(r.out, "stale-after"), "stale-after=\"3h\"");
  EXPECT_EQ(line_of(r.out, "db"), "db=\"sqlite:file.db\"");
}

TEST_F(CliConfig, TopLevelKeysApplyToEverySubcommandAndSectionsWin) {
  std::string file = write("c.toml",
                           "# shared\n"
                           "db = \"sqlite:shared.db\"\n"
                           "stale_after = \"10m\"\n"
                           "[serve]\n"
                           "stale_after = \"20m\"\n"
                           "listen = [\"127.0.0.1:5222\", \"[::1]:5223\"]\n");
  auto serve = run({"serve", "--config", file, "--print-config"});
  ASSERT_EQ(serve.exit_code, 0) << serve.err;
  EXPECT_EQ(line_of(serve.out, "db"), "db=\"sqlite:shared.db\"");
  EXPECT_EQ(line_of(serve.out, "stale-after"), "stale-after=\"20m\"");
  EXPECT_EQ(line_of(serve.out, "listen"), "listen=[\"127.0.0.1:5222\", \"[::1]:5223\"]");
  auto reap = run({"reap", "--config", file, "--print-config"});
  ASSERT_EQ(reap.exit_code, 0) << reap.err;
  EXPECT_EQ(line_of(reap.out, "db"), "db=\"sqlite:shared.db\"");
  EXPECT_EQ(line_of(reap.out, "stale-after"), "stale-after=\"10m\"");
}

TEST_F(CliConfig, PrintedConfigReadsBackToTheSameOptions) {
  std::string file = write("c.toml", "[serve]\nthreads = 3\nlog-level = \"warn\"\n");
  auto first = run({"--config", file, "serve", "--print-config"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  std::string again = write("again.toml", first.out);
  auto second = run({"--config", again, "serve", "--print-config"});
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(second.out, first.out);
  EXPECT_EQ(line_of(first.out, "threads"), "threads=3");
}

TEST_F(CliConfig, UnknownKeyNamesKeyAndFileOnOneLine) {
  std::string file = write("bad.toml", "[reap]\nstale-after = \"1h\"\nstale-afterr = \"2h\"\n");
  auto r = run({"--config", file, "reap", "--dry-run"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(r.out.empty());
  EXPECT_NE(r.err.find("reap.stale-afterr"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(file), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
}

TEST_F(CliConfig, UnknownSectionAndUnknownTopLevelKeyAreErrors) {
  auto section =
      run({"--config", write("s.toml", "[srve]\nthreads = 1\n"), "serve", "--print-config"});
  EXPECT_EQ(section.exit_code, 2);
  EXPECT_NE(section.err.find("[srve]"), std::string::npos) << section.err;
  // An option of another subcommand is fine in its section, not in this one.
  auto other =
      run({"--config", write("o.toml", "[reap]\nthreads = 1\n"), "serve", "--print-config"});
  EXPECT_EQ(other.exit_code, 2);
  EXPECT_NE(other.err.find("reap.threads"), std::string::npos) << other.err;
  auto top = run({"--config", write("t.toml", "colour = \"blue\"\n"), "serve", "--print-config"});
  EXPECT_EQ(top.exit_code, 2);
  EXPECT_NE(top.err.find("'colour'"), std::string::npos) << top.err;
}

TEST_F(CliConfig, BrokenFileStillAllowsHelp) {
  auto r = run({"--config", write("bad.toml", "nonsense = 1\n"), "serve", "--help"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("--stale-after"), std::string::npos);
}

TEST_F(CliConfig, InvalidValueFromFileIsUsageError) {
  auto r = run(
      {"--config", write("v.toml", "[serve]\nlog-level = \"loud\"\n"), "serve", "--print-config"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("loud"), std::string::npos) << r.err;
}

TEST_F(CliConfig, DefaultFileIsReadFromXdgConfigHomeOnlyWhenPresent) {
  auto absent = run({"reap", "--print-config"});
  ASSERT_EQ(absent.exit_code, 0) << absent.err;
  write("xdg/iotxmpp/config.toml", "[reap]\nstale-after = \"42m\"\n");
  auto present = run({"reap", "--print-config"});
  ASSERT_EQ(present.exit_code, 0) << present.err;
  EXPECT_EQ(line_of(present.out, "stale-after"), "stale-after=\"42m\"");
  // Without XDG_CONFIG_HOME: ~/.config.
  write(".config/iotxmpp/config.toml", "[reap]\nstale-after = \"43m\"\n");
  auto home = run({"reap", "--print-config"}, {"XDG_CONFIG_HOME="});
  ASSERT_EQ(home.exit_code, 0) << home.err;
  EXPECT_EQ(line_of(home.out, "stale-after"), "stale-after=\"43m\"");
}

TEST_F(CliConfig, NamedFileMustExist) {
  auto flag = run({"--config", dir_.path() + "/missing.toml", "reap", "--print-config"});
  EXPECT_EQ(flag.exit_code, 2);
  EXPECT_NE(flag.err.find("missing.toml"), std::string::npos) << flag.err;
  auto env = run({"reap", "--print-config"}, {"IOTXMPP_CONFIG=" + dir_.path() + "/gone.toml"});
  EXPECT_EQ(env.exit_code, 2);
  EXPECT_NE(env.err.find("gone.toml"), std::string::npos) << env.err;
  auto named = run({"reap", "--print-config"},
                   {"IOTXMPP_CONFIG=" + write("n.toml", "[reap]\nstale-after = \"44m\"\n")});
  ASSERT_EQ(named.exit_code, 0) << named.err;
  EXPECT_EQ(line_of(named.out, "stale-after"), "stale-after=\"44m\"");
}

TEST_F(CliConfig, EveryLongOptionOfASubcommandNamesItsVariable) {
  auto r = run({"serve", "--help"});
  ASSERT_EQ(r.exit_code, 0);
  for (const char* env : {"IOTXMPP_STALE_AFTER", "IOTXMPP_MAX_STANZA_BYTES", "IOTXMPP_LOG_LEVEL",
                          "IOTXMPP_LISTEN", "IOTXMPP_RULES"})
    EXPECT_NE(r.out.find(std::string("Env:") + env), std::string::npos) << env;
}

}  // namespace
