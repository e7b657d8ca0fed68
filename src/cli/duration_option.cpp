#include "cli/duration_option.hpp"

#include <CLI/CLI.hpp>

#include "core/base/duration.hpp"

namespace iotxmpp::cli {

std::string duration_problem(const std::string& text, zero_duration zero) {
  auto d = parse_duration(text);
  if (!d) return d.error().message;
  if (d->count() == 0 && zero == zero_duration::refused)
    return "must be more than 0 (e.g. 30s, 5m, 250ms)";
  return {};
}

CLI::Validator duration_check(zero_duration zero) {
  return CLI::Validator([zero](std::string& text) { return duration_problem(text, zero); }, "");
}

CLI::Option* add_duration_option(CLI::App& sub, const std::string& name, std::string& text,
                                 const std::string& help, zero_duration zero) {
  CLI::Option* opt = sub.add_option(name, text, help)->type_name("DURATION");
  opt->check(duration_check(zero));
  if (!text.empty()) opt->capture_default_str();
  return opt;
}

std::chrono::microseconds duration_value(const std::string& text) {
  if (text.empty()) return {};
  auto d = parse_duration(text);
  return d ? *d : std::chrono::microseconds{};
}

}  // namespace iotxmpp::cli
