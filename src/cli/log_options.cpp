#include "cli/log_options.hpp"

#include <CLI/CLI.hpp>

#include "core/base/log.hpp"

namespace iotxmpp::cli {

std::shared_ptr<log_flags> add_log_options(CLI::App& app) {
  auto f = std::make_shared<log_flags>();
  app.add_option("--log-level", f->level, "Log level: debug, info, warn, error, off")
      ->capture_default_str()
      ->envname("IOTXMPP_LOG_LEVEL")
      ->check(CLI::IsMember({"debug", "info", "warn", "error", "off"}));
  app.add_option("--log-format", f->format, "Log format on stderr: text or json")
      ->capture_default_str()
      ->envname("IOTXMPP_LOG_FORMAT")
      ->check(CLI::IsMember({"text", "json"}));
  return f;
}

void apply(const log_flags& flags) {
  log::set_level(log::parse_level(flags.level).value_or(log::level::info));
  log::set_format(flags.format == "json" ? log::format::json : log::format::text);
}

}  // namespace iotxmpp::cli
