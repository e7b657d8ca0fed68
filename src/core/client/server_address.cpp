#include "core/client/server_address.hpp"

#include "core/base/host_port.hpp"

namespace iotxmpp {

result<server_address> server_address::parse(std::string_view text, unsigned short default_port) {
  auto parsed = parse_host_port(text, {.default_port = default_port});
  if (!parsed)
    return fail(error_kind::usage,
                "server address '" + std::string(text) + "': " + parsed.error().message);
  server_address out;
  out.host = std::move(parsed->host);
  out.port = parsed->port;
  return out;
}

std::string server_address::to_string() const { return format_host_port(host, port); }

}  // namespace iotxmpp
