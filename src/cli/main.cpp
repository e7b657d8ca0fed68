// iotxmpp: one binary, one subcommand per job (see commands.cpp).

#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>

#include "cli/command.hpp"
#include "cli/config_file.hpp"
#include "cli/exit_codes.hpp"
#include "cli/unknown_subcommand.hpp"
#include "core/base/version.hpp"

int main(int argc, char** argv) {
  using namespace iotxmpp::cli;
  CLI::App app{
      "iotxmpp: XMPP telemetry service for IoT room devices.\n"
      "Devices report room status over XMPP; the server stores it (SQLite or MySQL)\n"
      "and answers recommendation queries. Run 'iotxmpp SUBCOMMAND --help' for details.",
      "iotxmpp"};
  app.set_version_flag("-V,--version", "iotxmpp " + std::string(iotxmpp::version()));
  app.require_subcommand(1);
  // Lets the global options follow the subcommand: `iotxmpp serve --config F`.
  app.fallthrough(true);
  const std::string environment_note =
      "Every long option of a subcommand can also come from IOTXMPP_<NAME> (e.g.\n"
      "--stale-after: IOTXMPP_STALE_AFTER) or from the config file.";
  app.footer(environment_note +
             "\nExit codes: 0 ok, 1 failure, 2 usage, 3 cannot connect, 4 timeout,\n"
             "5 error reply from the server, 6 database error, 7 I/O error, 8 protocol error.");

  runner chosen;
  CLI::App* chosen_sub = nullptr;
  for (const command& c : commands()) {
    CLI::App* sub = app.add_subcommand(c.name, c.summary);
    runner r = c.setup(*sub);
    // The list in `iotxmpp --help` shows the one-line summary; a subcommand's
    // longer description leads its own footer instead.
    if (sub->get_description() != c.summary) {
      std::string details = sub->get_description();
      std::string footer = sub->get_footer();
      // A subcommand that states its own exit codes (query, device) keeps
      // those alone: the inherited footer would list them a second time.
      if (details.find("Exit codes:") != std::string::npos && footer == app.get_footer())
        footer = environment_note;
      if (!footer.empty()) details += "\n\n" + footer;
      sub->description(c.summary);
      sub->footer(details);
    }
    sub->callback([&chosen, &chosen_sub, sub, r] {
      chosen = r;
      chosen_sub = sub;
    });
  }
  add_environment_names(app);
  CLI::Option* config = add_config_option(app);
  bool print_config = false;
  app.add_flag("--print-config", print_config,
               "Print the subcommand's effective options as a config file and exit")
      ->configurable(false);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::FileError& e) {  // names the file already
    std::fprintf(stderr, "iotxmpp: %s\n", e.what());
    return exit_usage;
  } catch (const CLI::ParseError& e) {
    // A mistyped subcommand is named (CLI11 would only say that one is
    // required), at whichever level it was typed.
    if (auto unknown = subcommand_usage_error(app)) {
      std::fprintf(stderr, "iotxmpp: %s\n", unknown->c_str());
      return exit_usage;
    }
    std::fprintf(stderr, "iotxmpp: %s (see 'iotxmpp --help')\n", e.what());
    return exit_usage;
  }
  if (!chosen) return exit_usage;
  // An explicitly named file must exist; only the XDG default is optional.
  if (const char* named = std::getenv("IOTXMPP_CONFIG");
      named && *named && config->count() == 0 && !std::filesystem::is_regular_file(named)) {
    std::fprintf(stderr, "iotxmpp: IOTXMPP_CONFIG: %s is not a readable file\n", named);
    return exit_usage;
  }
  if (print_config) {
    const CLI::App* leaf = chosen_sub;  // `query recommend`: the action's options
    while (!leaf->get_subcommands().empty()) leaf = leaf->get_subcommands().front();
    std::fputs(effective_config(*leaf).c_str(), stdout);
    return exit_ok;
  }
  try {
    return chosen();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "iotxmpp: internal error: %s\n", e.what());
    return exit_internal;
  }
}
