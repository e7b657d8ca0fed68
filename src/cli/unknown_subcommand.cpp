#include "cli/unknown_subcommand.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <numeric>
#include <vector>

namespace iotxmpp::cli {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  // Three rows of the classic table: the swap looks two rows back.
  std::vector<std::size_t> before(b.size() + 1), previous(b.size() + 1), current(b.size() + 1);
  std::iota(previous.begin(), previous.end(), std::size_t{0});
  for (std::size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t substitution = a[i - 1] == b[j - 1] ? 0 : 1;
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, previous[j - 1] + substitution});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        current[j] = std::min(current[j], before[j - 2] + 1);
    }
    std::swap(before, previous);
    std::swap(previous, current);
  }
  return previous[b.size()];
}

std::optional<std::string> closest(std::string_view typed,
                                   std::span<const std::string> candidates) {
  std::optional<std::string> best;
  std::size_t best_distance = 0;
  for (const std::string& c : candidates) {
    const std::size_t d = edit_distance(typed, c);
    if (d > 2 || 2 * d >= typed.size()) continue;
    if (!best || d < best_distance) {
      best = c;
      best_distance = d;
    }
  }
  return best;
}

namespace {

// "iotxmpp query": the names from the top down to `app`.
std::string path_of(const CLI::App& app) {
  std::string path = app.get_name();
  for (const CLI::App* up = app.get_parent(); up; up = up->get_parent())
    path = up->get_name() + " " + path;
  return path;
}

}  // namespace

std::optional<std::string> subcommand_usage_error(const CLI::App& root) {
  // The chain of subcommands chosen, from the top down.
  std::vector<const CLI::App*> chain{&root};
  while (!chain.back()->get_subcommands().empty())
    chain.push_back(chain.back()->get_subcommands().front());
  const CLI::App& leaf = *chain.back();
  const auto possible = leaf.get_subcommands([](const CLI::App*) { return true; });
  if (possible.empty() || leaf.get_require_subcommand_min() == 0) return std::nullopt;

  std::vector<std::string> names;
  for (const CLI::App* sub : possible) names.push_back(sub->get_name());
  const std::string path = path_of(leaf);
  const std::string see = " (see '" + path + " --help')";
  // The words left unparsed. An argument that no (sub)command takes falls
  // through to the one above, so look up to the top.
  std::vector<std::string> left;
  for (auto app = chain.rbegin(); app != chain.rend(); ++app)
    for (std::string& word : (*app)->remaining()) left.push_back(std::move(word));
  // The one typed in the subcommand's place: the first near a subcommand,
  // else the first that does not follow a flag (it may be that flag's value:
  // `query --timeout 1s pnig`), else the first.
  const std::string* typed = nullptr;
  const std::string* after_flag = nullptr;
  std::optional<std::string> near;
  for (std::size_t i = 0; i < left.size() && !near; ++i) {
    const std::string& word = left[i];
    if (word.empty() || word.front() == '-') continue;
    const bool follows_flag =
        i > 0 && left[i - 1].starts_with('-') && left[i - 1].find('=') == std::string::npos;
    if ((near = closest(word, names)))
      typed = &word;
    else if (follows_flag && !after_flag)
      after_flag = &word;
    else if (!follows_flag && !typed)
      typed = &word;
  }
  if (!typed) typed = after_flag;
  if (typed) {
    // "query recomend", not "iotxmpp query recomend": what follows `iotxmpp`.
    const std::string prefix = path.size() > root.get_name().size()
                                   ? path.substr(root.get_name().size() + 1) + " "
                                   : std::string();
    std::string message = "unknown subcommand '" + prefix + *typed + "'";
    if (near) message += "; did you mean '" + prefix + *near + "'?";
    return message + see;
  }
  std::string list;
  for (const std::string& name : names) list += (list.empty() ? "" : ", ") + name;
  return "'" + path + "' needs a subcommand: " + list + see;
}

}  // namespace iotxmpp::cli
