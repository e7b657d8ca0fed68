#pragma once
// The address of an XMPP server as people type it: HOST[:PORT], IPv6
// literals in brackets.

#include <string>
#include <string_view>

#include "core/base/error.hpp"

namespace iotxmpp {

// Where the server is: a host name or IP literal and a TCP port.
struct server_address {
  std::string host = "localhost";
  unsigned short port = 5222;

  // Parses "HOST", "HOST:PORT", "[IPV6]", "[IPV6]:PORT" or a bare IPv6
  // literal ("::1", no port). error_kind::usage saying what is wrong.
  static result<server_address> parse(std::string_view text, unsigned short default_port = 5222);
  // "host:port", IPv6 literals in brackets: "[::1]:5222".
  std::string to_string() const;
};

}  // namespace iotxmpp
