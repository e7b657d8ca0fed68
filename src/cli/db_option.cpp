#include "cli/db_option.hpp"

#include <CLI/CLI.hpp>

namespace iotxmpp::cli {

CLI::Option* add_db_option(CLI::App& sub, std::string& url) {
  return sub
      .add_option("--db", url,
                  "Database URL: sqlite:PATH (a file, created when missing) or\n"
                  "mysql://USER:PASSWORD@HOST:PORT/DATABASE (port 3306 by default;\n"
                  "percent-encode '@' ':' '/' in the user or password). The password is\n"
                  "never printed. Prefer IOTXMPP_DB to keep it out of the process list.")
      ->envname("IOTXMPP_DB")
      ->type_name("URL")
      ->capture_default_str();
}

}  // namespace iotxmpp::cli
