#pragma once
// --log-level and --log-format, for the subcommands that log.

#include <memory>
#include <string>

namespace CLI {
class App;
}

namespace iotxmpp::cli {

struct log_flags {
  std::string level = "info";
  std::string format = "text";
};

// Declares the options on `app`; the returned flags are filled by parsing.
std::shared_ptr<log_flags> add_log_options(CLI::App& app);

// Applies parsed flags to the process-wide logger.
void apply(const log_flags& flags);

}  // namespace iotxmpp::cli
