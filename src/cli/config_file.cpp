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

// The direct subcommand of `app` called `name`, or null.
const CLI::App* child(const CLI::App& app, const std::string& name) {
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
    if (sub->get_name() == name) return sub;
  return nullptr;
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

void for_each_subcommand(const CLI::App& app, const command_path& where,
                         const std::function<void(const CLI::App&, const command_path&)>& fn) {
  if (app.get_parent()) fn(app, where);
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    command_path below = where;
    below.push_back(sub->get_name());
    for_each_subcommand(*sub, below, fn);
  }
}

void add_environment_names(CLI::App& app) {
  for_each_subcommand(app, {}, [](const CLI::App& const_sub, const command_path&) {
    // CLI11 hands out const subcommands from a const walk; the options are ours.
    auto& sub = const_cast<CLI::App&>(const_sub);
    for (CLI::Option* opt : sub.get_options([](CLI::Option*) { return true; })) {
      if (opt == sub.get_help_ptr() || opt == sub.get_help_all_ptr()) continue;
      if (!opt->get_envname().empty() || opt->get_lnames().empty()) continue;
      opt->envname(environment_name(opt->get_lnames().front()));
    }
  });
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
  struct target {
    std::size_t depth;  // of the section that set it: the deeper one wins
    CLI::ConfigItem item;
  };
  std::vector<target> targets;
  for (CLI::ConfigItem item : CLI::ConfigTOML::from_config(input)) {
    if (item.name == "++" || item.name == "--") continue;  // section markers
    std::replace(item.name.begin(), item.name.end(), '_', '-');
    const CLI::App* section = &app_;
    for (const std::string& name : item.parents) {
      section = child(*section, name);
      if (!section) break;
    }
    std::string key = dotted(item);
    if (!section)
      throw CLI::FileError("config file " + file_name() + ": unknown section [" +
                           key.substr(0, key.rfind('.')) + "] (key '" + key + "')");
    // A key applies to its section's subcommand and to every subcommand under it.
    bool used = false;
    for_each_subcommand(*section, item.parents,
                        [&](const CLI::App& sub, const command_path& where) {
                          if (!find(sub, item.name)) return;
                          CLI::ConfigItem copy = item;
                          copy.parents = where;
                          targets.push_back({item.parents.size(), std::move(copy)});
                          used = true;
                        });
    if (!used)
      throw CLI::FileError("config file " + file_name() + ": unknown key '" + key +
                           "' (no subcommand there has --" + item.name + ")");
  }
  // CLI11 keeps the first value an option gets from a file, so the deepest
  // sections go first. An item whose environment variable is set is left
  // out so that CLI11 takes the environment instead. `key = ""` means the
  // default, as --print-config writes it.
  std::stable_sort(targets.begin(), targets.end(),
                   [](const target& a, const target& b) { return a.depth > b.depth; });
  std::vector<CLI::ConfigItem> items;
  for (target& t : targets) {
    if (t.item.inputs.size() == 1 && t.item.inputs.front().empty()) continue;
    const CLI::App* sub = &app_;
    for (const std::string& name : t.item.parents) sub = child(*sub, name);
    const CLI::Option* opt = find(*sub, t.item.name);
    if (!opt->get_envname().empty() && !env_or_empty(opt->get_envname()).empty()) continue;
    items.push_back(std::move(t.item));
  }
  return items;
}

std::string effective_config(const CLI::App& sub) {
  std::string section = sub.get_name();
  for (const CLI::App* p = sub.get_parent(); p && p->get_parent(); p = p->get_parent())
    section = p->get_name() + "." + section;
  std::string out = "[" + section + "]\n";
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
