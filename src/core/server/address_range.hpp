#pragma once
// An IPv4 or IPv6 network in CIDR form ("10.0.0.0/8", "2001:db8::/32", or
// one address, "192.0.2.7"), for serve's --trusted-proxy. Plain bytes, no
// I/O and no asio.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/base/error.hpp"

namespace iotxmpp {

struct address_range {
  bool ipv6 = false;
  std::array<std::uint8_t, 16> network{};  // network byte order; IPv4 in the first 4
  unsigned prefix = 0;                     // bits that must match: 0-32 or 0-128

  // "ADDRESS/BITS" or "ADDRESS" (all bits). Fails (usage) on anything else,
  // and when bits below the prefix are set ("10.0.0.1/8": the message names
  // the network meant, "10.0.0.0/8"), so a typo cannot widen the range.
  static result<address_range> parse(std::string_view text);

  // Whether `address` (same layout as `network`) of that family is inside.
  // An IPv4 address is never inside an IPv6 range, nor the reverse: the
  // caller writes IPv4-mapped IPv6 addresses as IPv4 first.
  bool contains(bool address_ipv6, const std::array<std::uint8_t, 16>& address) const;

  std::string to_string() const;  // "10.0.0.0/8"
};

}  // namespace iotxmpp
