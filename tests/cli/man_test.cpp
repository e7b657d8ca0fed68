// The man pages in man/ against the binary: every subcommand has a page,
// every long flag of `--help` is documented with its default, and every
// flag a page documents exists. Reads the roff text; needs no man or groff.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "support/cli_help.hpp"
#include "support/process.hpp"

namespace {

using namespace iotxmpp::test;

const std::string man_dir = IOTXMPP_SOURCE_DIR "/man/";

// Roff to plain text for matching: font escapes dropped, \- as '-'.
std::string plain(std::string text) {
  text = std::regex_replace(text, std::regex(R"(\\f[BIRP])"), "");
  text = std::regex_replace(text, std::regex(R"(\\-)"), "-");
  text = std::regex_replace(text, std::regex(R"(\\e)"), "\\");
  return text;
}

struct man_item {
  std::vector<std::string> flags;  // the long flags of the item's tag line
  std::string text;                // its tag and body, as plain text
};

// The .TP items of the page's `section` (e.g. "OPTIONS").
std::vector<man_item> items_of(const std::string& page, const std::string& section) {
  std::istringstream in(page);
  std::vector<man_item> items;
  bool inside = false, tag_next = false;
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with(".SH")) {
      inside = line == ".SH " + section;
      continue;
    }
    if (!inside) continue;
    if (line == ".TP") {
      items.emplace_back();
      tag_next = true;
      continue;
    }
    if (items.empty()) continue;
    std::string text = plain(line);
    if (tag_next) {
      static const std::regex flag(R"(--[a-z0-9][a-z0-9-]*)");
      for (std::sregex_iterator it(text.begin(), text.end(), flag), end; it != end; ++it)
        items.back().flags.push_back(it->str());
      tag_next = false;
    }
    items.back().text += text + "\n";
  }
  return items;
}

std::vector<std::string> flags_of(const std::vector<man_item>& items) {
  std::vector<std::string> flags;
  for (const man_item& i : items) flags.insert(flags.end(), i.flags.begin(), i.flags.end());
  return flags;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// The options of `sub`, or of every action under it (`query recommend`...),
// each action's --help read once.
std::vector<help_option> options_of(const std::string& sub, std::vector<std::string>& actions) {
  std::string help = help_of(sub);
  actions = subcommands_in_help(help);
  if (actions.empty()) return options_in_help(help);
  std::vector<help_option> all;
  for (const std::string& action : actions) {
    auto more = options_in_help(help_of(sub + " " + action));
    all.insert(all.end(), more.begin(), more.end());
  }
  return all;
}

TEST(CliMan, EverySubcommandHasAPageWhoseOptionsMatchItsHelp) {
  std::vector<std::string> subs = subcommands_in_help(help_of(""));
  ASSERT_GE(subs.size(), 3u);
  for (const std::string& sub : subs) {
    SCOPED_TRACE(sub);
    std::string path = man_dir + "iotxmpp-" + sub + ".1";
    ASSERT_TRUE(std::filesystem::exists(path)) << "no man page " << path;
    std::string page = read_text_file(path);
    std::vector<man_item> items = items_of(page, "OPTIONS");
    std::vector<std::string> documented = flags_of(items);
    std::vector<std::string> actions;
    std::vector<help_option> options = options_of(sub, actions);
    std::vector<std::string> real = long_flags(options);
    for (const std::string& flag : real)
      EXPECT_TRUE(contains(documented, flag)) << flag << " is missing from " << path;
    for (const std::string& flag : documented)
      EXPECT_TRUE(flag == "--help" || contains(real, flag))
          << path << " documents " << flag << ", which `iotxmpp " << sub << " --help` lacks";
    // Each option's item states the default --help shows.
    for (const help_option& o : options) {
      if (o.default_value.empty()) continue;
      for (const man_item& item : items) {
        if (!contains(item.flags, o.names.back())) continue;
        EXPECT_NE(item.text.find("Default: " + o.default_value), std::string::npos)
            << o.names.back() << " should say \"Default: " << o.default_value << "\" in " << path;
      }
    }
    std::string listed;
    for (const man_item& i : items_of(page, "ACTIONS")) listed += i.text;
    for (const std::string& action : actions)
      EXPECT_NE(listed.find(".B " + action + "\n"), std::string::npos)
          << "ACTIONS of " << path << " lacks " << action;
  }
}

TEST(CliMan, MainPageListsEverySubcommandAndGlobalOption) {
  std::string page = read_text_file(man_dir + "iotxmpp.1");
  ASSERT_FALSE(page.empty());
  std::vector<man_item> subs = items_of(page, "SUBCOMMANDS");
  std::string listed;
  for (const man_item& i : subs) listed += i.text;
  std::string help = help_of("");
  for (const std::string& sub : subcommands_in_help(help)) {
    EXPECT_NE(listed.find(".B " + sub + "\n"), std::string::npos) << sub;
    EXPECT_NE(plain(page).find(".BR iotxmpp-" + sub + " (1)"), std::string::npos)
        << "SEE ALSO should name iotxmpp-" << sub;
  }
  std::vector<std::string> documented = flags_of(items_of(page, "OPTIONS"));
  for (const std::string& flag : long_flags(options_in_help(help)))
    EXPECT_TRUE(contains(documented, flag)) << flag << " is missing from iotxmpp.1";
}

TEST(CliMan, ExitStatusTableMatchesExitCodesHeader) {
  std::string header = read_text_file(IOTXMPP_SOURCE_DIR "/src/cli/exit_codes.hpp");
  std::vector<man_item> items = items_of(read_text_file(man_dir + "iotxmpp.1"), "EXIT STATUS");
  std::vector<std::string> documented;
  for (const man_item& i : items) documented.push_back(i.text.substr(0, i.text.find('\n')));
  static const std::regex code(R"(exit_[a-z]+ = ([0-9]+),)");
  int n = 0;
  for (std::sregex_iterator it(header.begin(), header.end(), code), end; it != end; ++it, ++n)
    EXPECT_TRUE(contains(documented, ".B " + (*it)[1].str())) << "exit code " << (*it)[1];
  EXPECT_GE(n, 9);
  EXPECT_EQ(documented.size(), static_cast<std::size_t>(n)) << "codes the header lacks";
}

// The pages render without a warning (scripts/setup-deps installs groff).
TEST(CliMan, PagesRenderWithoutGroffWarnings) {
  ASSERT_TRUE(std::filesystem::exists("/usr/bin/groff"))
      << "groff is not installed: run scripts/setup-deps";
  for (const auto& entry : std::filesystem::directory_iterator(man_dir)) {
    if (entry.path().extension() != ".1") continue;
    auto r = run_process({"groff", "-man", "-ww", "-z", "-Tutf8", entry.path().string()}, {},
                         std::chrono::seconds(10));
    EXPECT_EQ(r.exit_code, 0) << entry.path();
    EXPECT_EQ(r.err, "") << entry.path();
  }
}

}  // namespace
