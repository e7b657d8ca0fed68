// The subcommand table. Add a row when a subcommand works, not before.

#include "cli/command.hpp"

#include <array>

namespace iotxmpp::cli {

// One setup function per cmd_<name>.cpp.
// (declarations added with each subcommand)

std::span<const command> commands() {
  static const std::array<command, 0> table{{
  }};
  return table;
}

}  // namespace iotxmpp::cli
