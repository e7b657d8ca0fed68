// The subcommand table. Add a row when a subcommand works, not before.

#include "cli/command.hpp"

#include <array>

namespace iotxmpp::cli {

// One setup function per cmd_<name>.cpp.
// (declarations added with each subcommand)
runner setup_db_init(CLI::App& sub);
runner setup_reap(CLI::App& sub);
runner setup_serve(CLI::App& sub);
runner setup_simulate(CLI::App& sub);
runner setup_send(CLI::App& sub);
runner setup_query(CLI::App& sub);
runner setup_tail(CLI::App& sub);
runner setup_device(CLI::App& sub);

std::span<const command> commands() {
  static const std::array table{
      command{"serve", "Run the XMPP telemetry server", setup_serve},
      command{"db-init", "Create or migrate the database schema", setup_db_init},
      command{"reap", "Remove devices not heard from for a while", setup_reap},
      command{"device", "Add, list, change and remove device accounts", setup_device},
      command{"simulate", "Simulate room devices reporting to a server", setup_simulate},
      command{"send", "Send a status report, presence or raw stanzas as a device", setup_send},
      command{"query", "Ask the server: recommend, ping, devices, info, version", setup_query},
      command{"tail", "Follow the live feed of reports and presence", setup_tail},
  };
  return table;
}

}  // namespace iotxmpp::cli
