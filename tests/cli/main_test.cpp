// The CLI frame: version, help, usage errors and their exit codes.

#include <gtest/gtest.h>

#include "support/process.hpp"

using iotxmpp::test::run_iotxmpp;

TEST(CliMain, VersionPrintsProjectVersion) {
  auto r = run_iotxmpp({"--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "iotxmpp " IOTXMPP_VERSION "\n");
}

TEST(CliMain, HelpExplainsAndExitsZero) {
  auto r = run_iotxmpp({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("XMPP telemetry service"), std::string::npos);
  EXPECT_NE(r.out.find("Exit codes"), std::string::npos);
}

TEST(CliMain, UnknownFlagIsUsageErrorOnOneLine) {
  auto r = run_iotxmpp({"--no-such-flag"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(r.out.empty());
  EXPECT_EQ(r.err.rfind("iotxmpp: ", 0), 0u) << r.err;
}

TEST(CliMain, MissingSubcommandIsUsageError) {
  auto r = run_iotxmpp({});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("iotxmpp: "), std::string::npos);
}

// A mistyped subcommand is named, with the closest one when it is near
// (edit distance at most 2 and under half the word), and exits 2 (usage).
TEST(CliMain, UnknownSubcommandIsNamedWithTheClosestOne) {
  struct example {
    std::vector<std::string> args;
    std::string err;
  };
  const example examples[] = {
      {{"serv"},
       "iotxmpp: unknown subcommand 'serv'; did you mean 'serve'? (see 'iotxmpp --help')\n"},
      // a swap of two letters is one edit; the flags after it do not matter
      {{"sevre", "--db", "sqlite::memory:"},
       "iotxmpp: unknown subcommand 'sevre'; did you mean 'serve'? (see 'iotxmpp --help')\n"},
      {{"dbinit"},
       "iotxmpp: unknown subcommand 'dbinit'; did you mean 'db-init'? (see 'iotxmpp --help')\n"},
      // nothing near: no guess
      {{"foo"}, "iotxmpp: unknown subcommand 'foo' (see 'iotxmpp --help')\n"},
      {{"se"}, "iotxmpp: unknown subcommand 'se' (see 'iotxmpp --help')\n"},
      // every level that has subcommands
      {{"query", "recomend", "--room", "x"},
       "iotxmpp: unknown subcommand 'query recomend'; did you mean 'query recommend'? "
       "(see 'iotxmpp query --help')\n"},
      {{"query", "--timeout", "1s", "pnig"},
       "iotxmpp: unknown subcommand 'query pnig'; did you mean 'query ping'? "
       "(see 'iotxmpp query --help')\n"},
      // a flag's value is not taken for the subcommand
      {{"query", "--timeout", "1s", "foo"},
       "iotxmpp: unknown subcommand 'query foo' (see 'iotxmpp query --help')\n"},
      {{"query", "serve"},
       "iotxmpp: unknown subcommand 'query serve' (see 'iotxmpp query --help')\n"},
      {{"device", "lsit", "--db", "sqlite::memory:"},
       "iotxmpp: unknown subcommand 'device lsit'; did you mean 'device list'? "
       "(see 'iotxmpp device --help')\n"},
      {{"send", "stauts", "--room", "x"},
       "iotxmpp: unknown subcommand 'send stauts'; did you mean 'send status'? "
       "(see 'iotxmpp send --help')\n"},
  };
  for (const example& e : examples) {
    auto r = run_iotxmpp(e.args);
    SCOPED_TRACE(e.args.front() + (e.args.size() > 1 ? " " + e.args[1] : ""));
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err, e.err);
  }
}

TEST(CliMain, AMissingSubcommandListsTheChoices) {
  auto r = run_iotxmpp({});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "iotxmpp: 'iotxmpp' needs a subcommand: serve, db-init, reap, device, simulate, send, "
            "query, tail (see 'iotxmpp --help')\n");
  r = run_iotxmpp({"query", "--json"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "iotxmpp: 'iotxmpp query' needs a subcommand: recommend, ping, devices, info, version "
            "(see 'iotxmpp query --help')\n");
}

// Other usage errors of a known subcommand keep their own message.
TEST(CliMain, AKnownSubcommandKeepsItsUsageErrors) {
  auto r = run_iotxmpp({"query", "recommend"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err.find("unknown subcommand"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--room"), std::string::npos) << r.err;
  r = run_iotxmpp({"reap", "extra"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err.find("unknown subcommand"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("extra"), std::string::npos) << r.err;
}
