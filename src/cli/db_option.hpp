#pragma once
// The `--db URL` option every subcommand that opens the store shares, so the
// flag, its environment variable and its help read the same everywhere.

#include <string>

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace iotxmpp::cli {

inline constexpr const char* default_db_url = "sqlite:iotxmpp.db";

// Declares `--db URL` on `sub`, filling `url` (which should start as
// default_db_url): from the flag, else env IOTXMPP_DB, else the default.
CLI::Option* add_db_option(CLI::App& sub, std::string& url);

}  // namespace iotxmpp::cli
