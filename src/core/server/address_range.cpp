#include "core/server/address_range.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace iotxmpp {
namespace {

bool parse_address(std::string_view text, address_range& out) {
  if (text.empty() || text.size() > 45) return false;
  char buf[46];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  out.network = {};
  if (inet_pton(AF_INET, buf, out.network.data()) == 1) {
    out.ipv6 = false;
    return true;
  }
  if (inet_pton(AF_INET6, buf, out.network.data()) == 1) {
    out.ipv6 = true;
    return true;
  }
  return false;
}

}  // namespace

result<address_range> address_range::parse(std::string_view text) {
  address_range r;
  const auto slash = text.find('/');
  if (!parse_address(text.substr(0, slash), r))
    return fail(error_kind::usage, "not an IPv4 or IPv6 address (or CIDR network)");
  const unsigned bits = r.ipv6 ? 128 : 32;
  r.prefix = bits;
  if (slash != std::string_view::npos) {
    const std::string_view digits = text.substr(slash + 1);
    unsigned p = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), p);
    if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size() || p > bits)
      return fail(error_kind::usage, "prefix length is not a number in 0-" + std::to_string(bits));
    r.prefix = p;
  }
  address_range masked = r;
  for (unsigned i = 0; i < bits / 8; ++i) {
    const unsigned keep = r.prefix > i * 8 ? std::min(8u, r.prefix - i * 8) : 0;
    masked.network[i] &= static_cast<std::uint8_t>(keep ? 0xFF << (8 - keep) : 0);
  }
  if (masked.network != r.network)
    return fail(error_kind::usage,
                "bits set below the prefix (the network is " + masked.to_string() + ")");
  return r;
}

bool address_range::contains(bool address_ipv6, const std::array<std::uint8_t, 16>& address) const {
  if (address_ipv6 != ipv6) return false;
  unsigned left = prefix;
  for (std::size_t i = 0; left > 0; ++i) {
    const unsigned n = std::min(8u, left);
    const auto mask = static_cast<std::uint8_t>(0xFF << (8 - n));
    if ((address[i] & mask) != (network[i] & mask)) return false;
    left -= n;
  }
  return true;
}

std::string address_range::to_string() const {
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(ipv6 ? AF_INET6 : AF_INET, network.data(), text, sizeof text);
  return std::string(text) + "/" + std::to_string(prefix);
}

}  // namespace iotxmpp
