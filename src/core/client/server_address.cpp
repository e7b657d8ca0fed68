#include "core/client/server_address.hpp"

#include <algorithm>

namespace iotxmpp {

result<server_address> server_address::parse(std::string_view text, unsigned short default_port) {
  auto bad = [&](std::string_view why) {
    return fail(error_kind::usage,
                "server address '" + std::string(text) + "': " + std::string(why));
  };
  server_address out;
  out.port = default_port;
  std::string_view port;
  if (text.empty()) return bad("empty");
  if (text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos) return bad("missing ']'");
    out.host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return bad("expected ':PORT' after ']'");
      port = rest.substr(1);
      if (port.empty()) return bad("empty port");
    }
  } else if (std::count(text.begin(), text.end(), ':') > 1) {
    out.host = text;  // a bare IPv6 literal: no port
  } else if (auto colon = text.find(':'); colon != std::string_view::npos) {
    out.host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (port.empty()) return bad("empty port");
  } else {
    out.host = text;
  }
  if (out.host.empty()) return bad("empty host");
  if (!port.empty()) {
    if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string_view::npos)
      return bad("port must be a number 1-65535");
    unsigned long n = std::stoul(std::string(port));
    if (n == 0 || n > 65535) return bad("port must be a number 1-65535");
    out.port = static_cast<unsigned short>(n);
  }
  return out;
}

std::string server_address::to_string() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

}  // namespace iotxmpp
