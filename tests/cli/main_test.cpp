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
