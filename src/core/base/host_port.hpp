#pragma once
// Network addresses as people type them, HOST:PORT with IPv6 literals in
// brackets ([::1]:5222), and the same form printed back. One parser for the
// client's --server, the server's --listen and the store's mysql:// URLs.

#include <optional>
#include <string>
#include <string_view>

#include "core/base/error.hpp"

namespace iotxmpp {

// A host name or IP literal (IPv6 without brackets) and a TCP port.
struct host_port {
  std::string host;
  unsigned short port = 0;

  friend bool operator==(const host_port&, const host_port&) = default;
};

// What parse_host_port accepts besides "HOST:PORT" and "[IPV6]:PORT".
struct host_port_rules {
  // Without a default the port is required. With one, "HOST", "[IPV6]" and
  // a bare IPv6 literal ("::1", two colons or more, no brackets) are accepted
  // too and get this port.
  std::optional<unsigned short> default_port;
  // Port 0 ("any free port", for a listener) is accepted; else 1-65535.
  bool allow_port_zero = false;
};

// Parses `text` under `rules`. The error is error_kind::usage whose message
// says only what is wrong ("missing ']'", "empty host", "port 'x' is not a
// number in 1-65535", ...), without quoting `text`: the caller prefixes it
// with what was being parsed (a flag name, a redacted URL).
// The host is not resolved or checked beyond being non-empty.
result<host_port> parse_host_port(std::string_view text, const host_port_rules& rules = {});

// "host:port", with an IPv6 literal (any host holding ':') in brackets:
// "[::1]:5222". parse_host_port reads it back.
std::string format_host_port(std::string_view host, unsigned short port);
inline std::string format_host_port(const host_port& a) { return format_host_port(a.host, a.port); }

// The host as it appears before ":PORT" in a URL: an IPv6 literal in
// brackets ("[::1]"), any other host as is.
std::string bracketed_host(std::string_view host);

}  // namespace iotxmpp
