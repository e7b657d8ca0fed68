#include "cli/config_file.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <memory>

namespace iotxmpp::cli {
namespace {

std::string env_or_empty(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  return v ? v : "";
}

std::string dotted(const CLI::ConfigItem& item) {
  std::string s;
  for (const std::string& p : item.parents) s += p + ".";
  return s + item.name;
}

}  // namespace

std::string default_config_path() {
  if (std::string explicit_file = env_or_empty("IOTXMPP_CONFIG"); !explicit_file.empty())
    return explicit_file;
  // XDG: a relative XDG_CONFIG_HOME is invalid and must be ignored.
  if (std::string xdg = env_or_empty("XDG_CONFIG_HOME"); xdg.starts_with("/"))
    return xdg + "/iotxmpp/config.toml";
  if (std::string home = env_or_empty("HOME"); !home.empty())
    return home + "/.config/iotxmpp/config.toml";
  return {};
}

std::string environment_name(const std::string& long_name) {
  std::string env = "IOTXMPP_";
  for (char c : long_name)
    env += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return env;
}

void add_environment_names(CLI::App& app) {
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
    for (CLI::Option* opt : sub->get_options([](CLI::Option*) { return true; })) {
      if (opt == sub->get_help_ptr() || opt == sub->get_help_all_ptr()) continue;
      if (!opt->get_envname().empty() || opt->get_lnames().empty()) continue;
      opt->envname(environment_name(opt->get_lnames().front()));
    }
  }
}

config_reader::config_reader(const CLI::App& app, const CLI::Option& file_option,
                             std::string default_file)
    : app_(app), file_option_(file_option), default_file_(std::move(default_file)) {}

std::string config_reader::file_name() const {
  return file_option_.count() > 0 ? file_option_.results().back() : default_file_;
}

const CLI::Option* config_reader::find(const CLI::App& sub, const std::string& name) const {
  const CLI::Option* opt = sub.get_option_no_throw("--" + name);
  return opt && opt->get_configurable() ? opt : nullptr;
}

std::vector<CLI::ConfigItem> config_reader::from_config(std::istream& input) const {
  std::vector<CLI::ConfigItem> sectioned, global;
  auto unknown = [this](const std::string& what) {
    return CLI::FileError("config file " + file_name() + ": unknown " + what);
  };
  for (CLI::ConfigItem item : CLI::ConfigTOML::from_config(input)) {
    if (item.name == "++" || item.name == "--") continue;  // section markers
    std::replace(item.name.begin(), item.name.end(), '_', '-');
    if (item.parents.empty()) {
      bool used = false;
      for (const CLI::App* sub : app_.get_subcommands([](const CLI::App*) { return true; })) {
        if (!find(*sub, item.name)) continue;
        CLI::ConfigItem copy = item;
        copy.parents = {sub->get_name()};
        global.push_back(std::move(copy));
        used = true;
      }
      if (!used) throw unknown("key '" + item.name + "' (no subcommand has --" + item.name + ")");
      continue;
    }
    const CLI::App* sub = nullptr;
    try {
      if (item.parents.size() == 1) sub = app_.get_subcommand(item.parents.front());
    } catch (const CLI::OptionNotFound&) {
    }
    if (!sub) throw unknown("section [" + item.parents.front() + "] (key '" + dotted(item) + "')");
    if (!find(*sub, item.name)) throw unknown("key '" + dotted(item) + "'");
    sectioned.push_back(std::move(item));
  }
  // CLI11 keeps the first value an option gets from a file, so the sections
  // go first; an item whose environment variable is set is left out so that
  // CLI11 takes the environment instead. `key = ""` means the default, as
  // --print-config writes it.
  sectioned.insert(sectioned.end(), global.begin(), global.end());
  std::erase_if(sectioned, [this](const CLI::ConfigItem& item) {
    if (item.inputs.size() == 1 && item.inputs.front().empty()) return true;
    const CLI::Option* opt = find(*app_.get_subcommand(item.parents.front()), item.name);
    return !opt->get_envname().empty() && !env_or_empty(opt->get_envname()).empty();
  });
  return sectioned;
}

std::string effective_config(const CLI::App& sub) {
  std::string out = "[" + sub.get_name() + "]\n";
  for (const CLI::Option* opt : sub.get_options()) {
    if (!opt->get_configurable() || opt->get_lnames().empty()) continue;
    std::vector<std::string> values = opt->reduced_results();
    if (opt->count() == 0) {
      const std::string& d = opt->get_default_str();
      if (d.empty()) {
        values = {opt->get_expected_min() == 0 ? "false" : ""};
      } else if (opt->get_items_expected_max() > 1 && d.size() >= 2 && d.front() == '[' &&
                 d.back() == ']') {
        // CLI11 shows a list default as "[a,b]"; write it as a TOML array.
        values = CLI::detail::split(d.substr(1, d.size() - 2), ',');
      } else {
        values = {d};
      }
    }
    out += opt->get_lnames().front() + "=" + CLI::detail::ini_join(values) + "\n";
  }
  return out;
}

CLI::Option* add_config_option(CLI::App& app) {
  std::string file = default_config_path();
  CLI::Option* opt = app.set_config(
      "--config", file,
      "TOML file with one [SUBCOMMAND] section of long-option keys (keys before any\n"
      "section apply to every subcommand); read only when present unless given.\n"
      "Env: IOTXMPP_CONFIG. Precedence: flag > IOTXMPP_* environment > file > default");
  opt->type_name("FILE");
  app.config_formatter(std::make_shared<config_reader>(app, *opt, file));
  return opt;
}

}  // namespace iotxmpp::cli
