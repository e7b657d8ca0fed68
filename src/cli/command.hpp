#pragma once
// The subcommand table (one row per subcommand, as ninja's subtools): each
// cmd_<name>.cpp defines one setup function that declares its options on the
// CLI11 subcommand it is given and returns what runs it after parsing.

#include <functional>
#include <span>

namespace CLI {
class App;
}

namespace iotxmpp::cli {

// Runs a parsed subcommand; returns its exit code (exit_codes.hpp).
using runner = std::function<int()>;

struct command {
  const char* name;
  const char* summary;
  runner (*setup)(CLI::App& sub);
};

// Every registered subcommand, in --help order. A subcommand is listed only
// once it works.
std::span<const command> commands();

}  // namespace iotxmpp::cli
