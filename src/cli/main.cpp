// iotxmpp: one binary, one subcommand per job (see commands.cpp).

#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>

#include "cli/command.hpp"
#include "cli/exit_codes.hpp"

int main(int argc, char** argv) {
  using namespace iotxmpp::cli;
  CLI::App app{
      "iotxmpp: XMPP telemetry service for IoT room devices.\n"
      "Devices report room status over XMPP; the server stores it (SQLite or MySQL)\n"
      "and answers recommendation queries. Run 'iotxmpp SUBCOMMAND --help' for details.",
      "iotxmpp"};
  app.set_version_flag("-V,--version", "iotxmpp " IOTXMPP_VERSION);
  app.require_subcommand(1);
  app.fallthrough(false);
  app.footer(
      "Exit codes: 0 ok, 1 failure, 2 usage, 3 cannot connect, 4 timeout,\n"
      "5 error reply from the server, 6 database error, 7 I/O error, 8 protocol error.");

  runner chosen;
  for (const command& c : commands()) {
    CLI::App* sub = app.add_subcommand(c.name, c.summary);
    runner r = c.setup(*sub);
    sub->callback([&chosen, r] { chosen = r; });
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "iotxmpp: %s (see 'iotxmpp --help')\n", e.what());
    return exit_usage;
  }
  if (!chosen) return exit_usage;
  try {
    return chosen();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "iotxmpp: internal error: %s\n", e.what());
    return exit_internal;
  }
}
