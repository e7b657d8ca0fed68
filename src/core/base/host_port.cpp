#include "core/base/host_port.hpp"

#include <algorithm>
#include <charconv>

namespace iotxmpp {
namespace {

std::unexpected<error> bad(std::string why) { return fail(error_kind::usage, std::move(why)); }

result<unsigned short> parse_port(std::string_view text, bool allow_zero) {
  const char* range = allow_zero ? "0-65535" : "1-65535";
  if (text.empty())
    return bad(std::string("empty port after ':' (expected a number in ") + range + ")");
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value > 65535 ||
      (value == 0 && !allow_zero))
    return bad("port '" + std::string(text) + "' is not a number in " + range);
  return static_cast<unsigned short>(value);
}

}  // namespace

result<host_port> parse_host_port(std::string_view text, const host_port_rules& rules) {
  if (text.empty()) return bad("empty address");
  host_port out;
  std::optional<std::string_view> port;  // the text after ':', when there is one
  if (text.front() == '[') {
    std::size_t close = text.find(']');
    if (close == std::string_view::npos) return bad("missing ']' after the IPv6 address");
    out.host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return bad("expected ':PORT' after ']'");
      port = rest.substr(1);
    }
    if (out.host.empty()) return bad("empty host between '[' and ']'");
  } else if (std::count(text.begin(), text.end(), ':') > 1) {
    if (!rules.default_port) return bad("an IPv6 address needs brackets: [ADDRESS]:PORT");
    out.host = text;  // a bare IPv6 literal, no port
  } else if (std::size_t colon = text.find(':'); colon != std::string_view::npos) {
    out.host = text.substr(0, colon);
    port = text.substr(colon + 1);
  } else {
    out.host = text;
  }
  if (out.host.empty()) return bad("empty host before ':'");
  if (port) {
    auto n = parse_port(*port, rules.allow_port_zero);
    if (!n) return std::unexpected(n.error());
    out.port = *n;
  } else if (rules.default_port) {
    out.port = *rules.default_port;
  } else {
    return bad("missing ':PORT'");
  }
  return out;
}

std::string bracketed_host(std::string_view host) {
  if (host.find(':') == std::string_view::npos) return std::string(host);
  std::string out;
  out.reserve(host.size() + 2);
  out.append(1, '[').append(host).append(1, ']');
  return out;
}

std::string format_host_port(std::string_view host, unsigned short port) {
  return bracketed_host(host) + ':' + std::to_string(port);
}

}  // namespace iotxmpp
