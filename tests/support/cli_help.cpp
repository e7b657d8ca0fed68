#include "support/cli_help.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "support/process.hpp"

namespace iotxmpp::test {
namespace {

// The lines of the block that follows the line `title`, up to a blank line.
std::vector<std::string> block(const std::string& help, const std::string& title) {
  std::istringstream in(help);
  std::vector<std::string> lines;
  bool inside = false;
  for (std::string line; std::getline(in, line);) {
    if (!inside) {
      inside = line == title;
      continue;
    }
    if (line.empty()) break;
    lines.push_back(line);
  }
  return lines;
}

}  // namespace

std::vector<std::string> subcommands_in_help(const std::string& help) {
  std::vector<std::string> names;
  for (const std::string& line : block(help, "Subcommands:"))
    if (line.size() > 2 && line.starts_with("  ") && line[2] != ' ')
      names.push_back(line.substr(2, line.find(' ', 2) - 2));
  return names;
}

std::vector<help_option> options_in_help(const std::string& help) {
  std::vector<help_option> options;
  for (const std::string& line : block(help, "Options:")) {
    if (!line.starts_with("  -")) continue;
    // "  -l,--listen TEXT=[[::]:5222] ... (Env:X)   description"
    std::string head = line.substr(2);
    if (auto env = head.find(" (Env:"); env != std::string::npos)
      head.resize(env);
    else if (auto gap = head.find("  "); gap != std::string::npos)
      head.resize(gap);
    help_option o;
    std::string names = head.substr(0, head.find(' '));
    std::istringstream split(names);
    for (std::string n; std::getline(split, n, ',');) o.names.push_back(n);
    if (auto space = head.find(' '); space != std::string::npos) {
      std::string spec = head.substr(space + 1);
      bool list = spec.ends_with(" ...");
      if (list) spec.resize(spec.size() - 4);
      if (auto eq = spec.find('='); eq != std::string::npos) {
        o.default_value = spec.substr(eq + 1);
        // CLI11 shows a list default as [a,b].
        if (list && o.default_value.size() >= 2 && o.default_value.front() == '[')
          o.default_value = o.default_value.substr(1, o.default_value.size() - 2);
      }
    }
    options.push_back(std::move(o));
  }
  return options;
}

std::vector<std::string> long_flags(const std::vector<help_option>& options) {
  std::vector<std::string> flags;
  for (const help_option& o : options)
    for (const std::string& n : o.names)
      if (n.starts_with("--") && n != "--help") flags.push_back(n);
  return flags;
}

std::string read_text_file(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string help_of(const std::string& sub) {
  std::vector<std::string> args;
  std::istringstream words(sub);  // "query recommend": two words
  for (std::string w; words >> w;) args.push_back(w);
  args.push_back("--help");
  // No user config file may change the defaults shown.
  auto r = run_iotxmpp(args, {}, std::chrono::seconds(10),
                       {"XDG_CONFIG_HOME=/nonexistent", "IOTXMPP_CONFIG="});
  EXPECT_EQ(r.exit_code, 0) << "iotxmpp " << sub << " --help: " << r.err;
  return r.out;
}

}  // namespace iotxmpp::test
