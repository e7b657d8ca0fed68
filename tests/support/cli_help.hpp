#pragma once
// Reads what `iotxmpp --help` and `iotxmpp SUB --help` print (CLI11's
// layout), so that man pages and completions can be checked against the
// binary instead of against a copy of its flag list.

#include <string>
#include <vector>

namespace iotxmpp::test {

struct help_option {
  std::vector<std::string> names;  // as printed: "-l", "--listen"
  std::string default_value;       // "" when none is shown
};

// The subcommand names listed under "Subcommands:".
std::vector<std::string> subcommands_in_help(const std::string& help);

// The options listed under "Options:" (with -h,--help).
std::vector<help_option> options_in_help(const std::string& help);

// The long names ("--x") of `options`, without --help.
std::vector<std::string> long_flags(const std::vector<help_option>& options);

// The whole content of a text file ("" when it cannot be read).
std::string read_text_file(const std::string& path);

// `iotxmpp SUB --help` (SUB may be "query recommend"; or `iotxmpp --help` for an empty `sub`);
// fails the calling test when it does not exit 0.
std::string help_of(const std::string& sub);

}  // namespace iotxmpp::test
