#include "cli/client_options.hpp"

#include <CLI/CLI.hpp>

#include "cli/duration_option.hpp"

namespace iotxmpp::cli {

std::shared_ptr<client_flags> add_client_options(CLI::App& sub, const char* timeout_help) {
  auto f = std::make_shared<client_flags>();
  sub.add_option("--server", f->server,
                 "Server address HOST[:PORT], IPv6 as [ADDR]:PORT (default port 5222)")
      ->capture_default_str()
      ->envname("IOTXMPP_SERVER");
  sub.add_option("--domain", f->domain, "The server's XMPP domain")
      ->capture_default_str()
      ->envname("IOTXMPP_DOMAIN");
  add_duration_option(sub, "--timeout", f->timeout, timeout_help, zero_duration::refused);
  sub.add_flag("--json", f->json, "Print JSON for scripts instead of text");
  return f;
}

result<std::chrono::milliseconds> timeout_of(const client_flags& flags) {
  // Checked again for flags filled in by code rather than by parsing.
  if (std::string why = duration_problem(flags.timeout, zero_duration::refused); !why.empty())
    return fail(error_kind::usage, "--timeout: " + why);
  return std::chrono::duration_cast<std::chrono::milliseconds>(duration_value(flags.timeout));
}

result<client_options> to_client_options(const client_flags& flags) {
  client_options o;
  auto address = server_address::parse(flags.server);
  if (!address) return fail(error_kind::usage, "--server: " + address.error().message);
  o.server = std::move(*address);
  if (flags.domain.empty()) return fail(error_kind::usage, "--domain: must not be empty");
  o.domain = flags.domain;
  auto timeout = timeout_of(flags);
  if (!timeout) return std::unexpected(timeout.error());
  o.connect_timeout = *timeout;
  return o;
}

result<std::unique_ptr<blocking_client>> connect_client(const client_flags& flags) {
  auto options = to_client_options(flags);
  if (!options) return std::unexpected(options.error());
  auto c = std::make_unique<blocking_client>(std::move(*options));
  if (auto up = c->connect(); !up) return std::unexpected(up.error());
  return c;
}

}  // namespace iotxmpp::cli
