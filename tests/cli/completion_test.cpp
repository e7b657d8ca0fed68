// The shell completions in completions/: the bash one is driven in a bash
// subprocess (COMP_WORDS/COMP_CWORD in, COMPREPLY out); all three are checked
// against `--help` so that a new subcommand or flag cannot be forgotten.

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "support/cli_help.hpp"
#include "support/process.hpp"
#include "support/scripted_server.hpp"
#include "wire/wire_fixture.hpp"

namespace {

using namespace iotxmpp::test;

const std::string completions = IOTXMPP_SOURCE_DIR "/completions/";

// Single-quotes `s` for bash.
std::string quoted(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// COMPREPLY, sorted, for the command line `words` (the last one is being
// completed), split as bash splits it: '=' and ':' are words of their own.
std::vector<std::string> complete(const std::vector<std::string>& words) {
  // COMP_LINE as typed: no blank around the '=' and ':' words.
  std::string typed;
  for (std::size_t i = 0; i < words.size(); ++i) {
    bool glued =
        i == 0 || words[i] == "=" || words[i] == ":" || words[i - 1] == "=" || words[i - 1] == ":";
    typed.append(glued ? "" : " ").append(words[i]);
  }
  const std::string& line = typed;
  std::string script = "source " + quoted(completions + "iotxmpp.bash") + "\nCOMP_WORDS=(";
  for (const std::string& w : words) script += quoted(w) + " ";
  script += ")\nCOMP_CWORD=" + std::to_string(words.size() - 1) + "\nCOMP_LINE=" + quoted(line) +
            "\nCOMP_POINT=${#COMP_LINE}\n_iotxmpp\nprintf '%s\\n' \"${COMPREPLY[@]}\" | sort\n";
  auto r =
      run_process({"bash", "--norc", "--noprofile", "-c", script}, {}, std::chrono::seconds(10));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> out;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);)
    if (!line.empty()) out.push_back(line);
  return out;
}

using words = std::vector<std::string>;

TEST(CliCompletion, BashCompletesSubcommandPrefix) {
  EXPECT_EQ(complete({"iotxmpp", "q"}), words{"query"});
  EXPECT_EQ(complete({"iotxmpp", "s"}), (words{"send", "serve", "simulate"}));
}

TEST(CliCompletion, BashOffersQueryActions) {
  EXPECT_EQ(complete({"iotxmpp", "query", ""}),
            (words{"devices", "info", "ping", "recommend", "version"}));
  EXPECT_EQ(complete({"iotxmpp", "--config", "x.toml", "send", ""}),
            (words{"presence", "raw", "status"}));
}

TEST(CliCompletion, BashOffersValuesOfKnownFlags) {
  EXPECT_EQ(complete({"iotxmpp", "serve", "--log-level", ""}),
            (words{"debug", "error", "info", "off", "warn"}));
  EXPECT_EQ(complete({"iotxmpp", "serve", "--log-format", "=", "j"}), words{"json"});
  EXPECT_EQ(complete({"iotxmpp", "reap", "--db", ""}), (words{"mysql://", "sqlite:"}));
  EXPECT_EQ(complete({"iotxmpp", "send", "presence", "--show", "d"}), words{"dnd"});
  // A flag that takes a value we cannot guess: nothing, not the flag list.
  EXPECT_EQ(complete({"iotxmpp", "serve", "--threads", ""}), words{});
}

TEST(CliCompletion, BashCompletesFilesForRulesAndConfig) {
  std::string dir = IOTXMPP_SOURCE_DIR "/examples/";
  auto rules = complete({"iotxmpp", "serve", "--rules", dir + "ru"});
  EXPECT_EQ(rules, words{dir + "rules.json"});
  auto config = complete({"iotxmpp", "--config", dir + "config.t"});
  EXPECT_EQ(config, words{dir + "config.toml"});
}

TEST(CliCompletion, BashOffersTheFlagsOfTheActionAfterSwitches) {
  auto flags = complete({"iotxmpp", "query", "recommend", "--json", "--"});
  EXPECT_NE(std::find(flags.begin(), flags.end(), "--room"), flags.end());
  EXPECT_EQ(std::find(flags.begin(), flags.end(), "--temperature"), flags.end());
}

TEST(CliCompletion, BashRoomsAreSilentlyNothingWithoutAServer) {
  // A port nobody listens on refuses at once: no rooms, no error text.
  const std::string port = std::to_string(unused_port());
  auto rooms = complete(
      {IOTXMPP_BINARY, "query", "recommend", "--server", "127.0.0.1", ":", port, "--room", ""});
  EXPECT_EQ(rooms, words{});
}

TEST(CliCompletion, BashRoomsGiveUpQuicklyOnAServerThatDoesNotAnswer) {
  // It logs in, then never answers `query devices`: the completion waits
  // for its one-second timeout, not the default five, and offers nothing.
  scripted_server mute(scripted_server::negotiation());
  const std::string port = std::to_string(mute.port());
  auto t0 = std::chrono::steady_clock::now();
  auto rooms = complete({IOTXMPP_BINARY, "tail", "--server", "127.0.0.1", ":", port, "--room", ""});
  EXPECT_EQ(rooms, words{});
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(4500));
}

// A server with devices in two rooms and one that has not reported yet.
struct server_with_rooms {
  test_server server;
  raw_client kitchen{"127.0.0.1", server.port()};
  raw_client hall{"127.0.0.1", server.port()};
  raw_client quiet{"127.0.0.1", server.port()};

  server_with_rooms() {
    kitchen.negotiate("k");
    kitchen.send(report("k1", "kitchen"));
    EXPECT_TRUE(sync(kitchen));
    hall.negotiate("h");
    hall.send(report("h1", "hall"));
    EXPECT_TRUE(sync(hall));
    quiet.negotiate("q");
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(server.port()); }
};

// The directory of the binary under test first in PATH: the zsh and fish
// completions run `iotxmpp` from PATH.
std::vector<std::string> binary_in_path() {
  const char* path = std::getenv("PATH");
  return {"PATH=" + std::filesystem::path(IOTXMPP_BINARY).parent_path().string() + ":" +
          (path ? path : "/usr/bin:/bin")};
}

// --room offers the rooms of the devices online on the server the command
// line names (--server HOST:PORT or --server=HOST:PORT), in every shell.
TEST(CliCompletion, RoomsComeFromTheDevicesOnline) {
  server_with_rooms s;
  const std::string port = std::to_string(s.server.port());
  EXPECT_EQ(complete({IOTXMPP_BINARY, "query", "recommend", "--server", "127.0.0.1", ":", port,
                      "--room", ""}),
            (words{"hall", "kitchen"}));
  EXPECT_EQ(complete({IOTXMPP_BINARY, "send", "status", "--server", "=", "127.0.0.1", ":", port,
                      "-r", "k"}),
            words{"kitchen"});

  // zsh: the room function as _arguments calls it (_wanted prints what it is given).
  std::string zsh_script =
      "_arguments() { : }\n"
      "_wanted() { print -rl -- ${(P)${@[-1]}} }\n"
      "source " +
      quoted(completions + "_iotxmpp") +
      "\n"
      "words=(iotxmpp tail --server=" +
      s.address() +
      " --room '')\n"
      "CURRENT=5\n"
      "_iotxmpp_rooms\n";
  auto zsh =
      run_process({"zsh", "-f", "-c", zsh_script}, {}, std::chrono::seconds(10), binary_in_path());
  EXPECT_EQ(zsh.exit_code, 0) << zsh.err;
  EXPECT_EQ(zsh.out, "hall\nkitchen\n");

  // fish: its own completion engine, on the whole line.
  std::string fish_script = "source " + quoted(completions + "iotxmpp.fish") +
                            "\ncomplete -C 'iotxmpp query recommend --server " + s.address() +
                            " --room '\n";
  auto fish = run_process({"fish", "--no-config", "-c", fish_script}, {}, std::chrono::seconds(10),
                          binary_in_path());
  EXPECT_EQ(fish.exit_code, 0) << fish.err;
  std::vector<std::string> offered;
  std::istringstream lines(fish.out);
  for (std::string line; std::getline(lines, line);)
    offered.push_back(line.substr(0, line.find('\t')));
  EXPECT_EQ(offered, (words{"hall", "kitchen"})) << fish.out;
}

// Every subcommand, action and long flag of --help is known to each
// completion file (so none drifts from the binary).
TEST(CliCompletion, EveryCommandAndFlagOfHelpIsCompleted) {
  std::vector<std::string> subs = subcommands_in_help(help_of(""));
  ASSERT_GE(subs.size(), 3u);
  std::vector<std::string> top = complete({"iotxmpp", ""});
  for (const std::string& sub : subs) {
    SCOPED_TRACE(sub);
    EXPECT_NE(std::find(top.begin(), top.end(), sub), top.end());
    std::vector<std::string> actions = subcommands_in_help(help_of(sub));
    if (actions.empty())
      actions.push_back("");
    else
      EXPECT_EQ(complete({"iotxmpp", sub, ""}).size(), actions.size());
    for (const std::string& action : actions) {
      std::string cmd = action.empty() ? sub : sub + " " + action;
      words line{"iotxmpp", sub};
      if (!action.empty()) line.push_back(action);
      line.push_back("--");
      std::vector<std::string> offered = complete(line);
      for (const std::string& flag : long_flags(options_in_help(help_of(cmd))))
        EXPECT_NE(std::find(offered.begin(), offered.end(), flag), offered.end())
            << "bash does not offer " << flag << " for " << cmd;
    }
  }
}

// zsh and fish cannot be run here (not installed everywhere): their text must
// name every subcommand, action and long flag.
TEST(CliCompletion, ZshAndFishNameEveryCommandAndFlag) {
  std::string zsh = read_text_file(completions + "_iotxmpp");
  std::string fish = read_text_file(completions + "iotxmpp.fish");
  ASSERT_FALSE(zsh.empty());
  ASSERT_FALSE(fish.empty());
  for (const std::string& sub : subcommands_in_help(help_of(""))) {
    std::vector<std::string> names{sub};
    std::vector<std::string> actions = subcommands_in_help(help_of(sub));
    names.insert(names.end(), actions.begin(), actions.end());
    std::vector<std::string> flags;
    if (actions.empty()) flags = long_flags(options_in_help(help_of(sub)));
    for (const std::string& a : actions)
      for (const std::string& f : long_flags(options_in_help(help_of(sub + " " + a))))
        flags.push_back(f);
    for (const std::string& name : names) {
      EXPECT_NE(zsh.find(name), std::string::npos) << "_iotxmpp lacks " << name;
      EXPECT_NE(fish.find(name), std::string::npos) << "iotxmpp.fish lacks " << name;
    }
    for (const std::string& flag : flags) {
      // '--flag=[...]', '--flag[...]' or {-f,--flag=}
      bool in_zsh = false;
      for (const char* end : {"=[", "[", "=}", "}"})
        in_zsh |= zsh.find(flag + end) != std::string::npos;
      EXPECT_TRUE(in_zsh) << "_iotxmpp lacks " << flag;
      EXPECT_NE(fish.find("-l " + flag.substr(2) + " "), std::string::npos)
          << "iotxmpp.fish lacks " << flag;
    }
  }
}

// The zsh and fish files at least parse (scripts/setup-deps installs both shells).
TEST(CliCompletion, ZshAndFishFilesParse) {
  ASSERT_TRUE(std::filesystem::exists("/usr/bin/zsh"))
      << "zsh is not installed: run scripts/setup-deps";
  ASSERT_TRUE(std::filesystem::exists("/usr/bin/fish"))
      << "fish is not installed: run scripts/setup-deps";
  auto zsh = run_process({"zsh", "-n", completions + "_iotxmpp"});
  EXPECT_EQ(zsh.exit_code, 0) << zsh.err;
  auto fish = run_process({"fish", "--no-execute", completions + "iotxmpp.fish"});
  EXPECT_EQ(fish.exit_code, 0) << fish.err;
}

}  // namespace
