#pragma once
// Where an option's value may come from besides the command line: a TOML
// config file (`--config FILE`) and one IOTXMPP_* environment variable per
// long option. Precedence: flag > environment > file > default.
//
// CLI11 2.1 itself reads the config file before the environment and lets
// the file win; config_reader restores the order above by dropping the file
// items whose environment variable is set, so CLI11 then fills them from the
// environment.

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace iotxmpp::cli {

// The config file used when --config is not given: $IOTXMPP_CONFIG, else
// $XDG_CONFIG_HOME/iotxmpp/config.toml, else ~/.config/iotxmpp/config.toml
// (empty when neither XDG_CONFIG_HOME nor HOME is set).
std::string default_config_path();

// IOTXMPP_ + the long name in upper case with '-' as '_':
// "stale-after" -> "IOTXMPP_STALE_AFTER".
std::string environment_name(const std::string& long_name);

// Names of nested subcommands from the top: {"query", "recommend"}.
using command_path = std::vector<std::string>;

// Calls `fn` on `app` (unless it is the top-level app) and on every
// subcommand below it, depth first; `where` is app's path.
void for_each_subcommand(const CLI::App& app, const command_path& where,
                         const std::function<void(const CLI::App&, const command_path&)>& fn);

// Gives every long option of every (nested) subcommand of `app` that has no
// environment variable yet the one environment_name() makes.
void add_environment_names(CLI::App& app);

// Reads a TOML config file for `app`: a `[SUB]` or `[SUB.ACTION]` section
// holds options keyed by long name (`stale-after` or `stale_after`) for that
// subcommand and every subcommand under it that has the option; keys before
// any section apply to all of them. The deepest section wins. An unknown key
// or section is an error naming it and the file (a CLI::FileError, so --help
// still works with a broken file).
class config_reader : public CLI::ConfigTOML {
 public:
  // `app` must outlive the reader; `file_option` is app's --config option
  // and `default_file` the path used when it was not given.
  config_reader(const CLI::App& app, const CLI::Option& file_option, std::string default_file);

  std::vector<CLI::ConfigItem> from_config(std::istream& input) const override;

 private:
  // The file being read, for messages.
  std::string file_name() const;
  // The option `item` sets in subcommand `sub`, or null.
  const CLI::Option* find(const CLI::App& sub, const std::string& name) const;

  const CLI::App& app_;
  const CLI::Option& file_option_;
  std::string default_file_;
};

// The effective options of subcommand `sub` after parsing, as a config file
// config_reader reads back to the same values: "[SUB]" (or "[SUB.ACTION]")
// then one
// `long-name=value` line per option (`""` for an unset one).
std::string effective_config(const CLI::App& sub);

// Declares `--config FILE` on `app` with config_reader as its formatter.
// Call after every subcommand has been added.
CLI::Option* add_config_option(CLI::App& app);

}  // namespace iotxmpp::cli
