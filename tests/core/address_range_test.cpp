// address_range: --trusted-proxy's CIDR networks, IPv4 and IPv6.

#include "core/server/address_range.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>

namespace iotxmpp {
namespace {

bool in(const char* range, const char* address) {
  auto r = address_range::parse(range);
  if (!r) throw std::runtime_error(r.error().message);
  std::array<std::uint8_t, 16> bytes{};
  const bool v6 = std::string_view(address).find(':') != std::string_view::npos;
  if (inet_pton(v6 ? AF_INET6 : AF_INET, address, bytes.data()) != 1)
    throw std::runtime_error("bad address");
  return r->contains(v6, bytes);
}

TEST(AddressRange, Ipv4Networks) {
  EXPECT_TRUE(in("10.0.0.0/8", "10.255.1.2"));
  EXPECT_FALSE(in("10.0.0.0/8", "11.0.0.1"));
  EXPECT_TRUE(in("192.168.4.0/22", "192.168.7.255"));
  EXPECT_FALSE(in("192.168.4.0/22", "192.168.8.0"));
  EXPECT_TRUE(in("127.0.0.3", "127.0.0.3"));
  EXPECT_FALSE(in("127.0.0.3", "127.0.0.1"));
  EXPECT_TRUE(in("0.0.0.0/0", "203.0.113.9"));
}

TEST(AddressRange, Ipv6NetworksAndFamiliesApart) {
  EXPECT_TRUE(in("2001:db8::/32", "2001:db8:ffff::1"));
  EXPECT_FALSE(in("2001:db8::/32", "2001:db9::1"));
  EXPECT_TRUE(in("fc00::/7", "fdff::1"));
  EXPECT_TRUE(in("::1/128", "::1"));
  EXPECT_FALSE(in("::/0", "10.0.0.1")) << "an IPv4 address is never in an IPv6 range";
  EXPECT_FALSE(in("0.0.0.0/0", "::1"));
}

TEST(AddressRange, RefusesWhatIsNotANetwork) {
  for (const char* bad : {"", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/x", "10.0.0.0/8/8",
                          "2001:db8::/129", "host.example", "10.0.0/8", "::1/-1"}) {
    auto r = address_range::parse(bad);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_EQ(r.error().kind, error_kind::usage);
    }
  }
  auto loose = address_range::parse("10.1.2.3/8");
  ASSERT_FALSE(loose);
  EXPECT_NE(loose.error().message.find("10.0.0.0/8"), std::string::npos) << loose.error().message;
  auto loose6 = address_range::parse("2001:db8::1/32");
  ASSERT_FALSE(loose6);
  EXPECT_NE(loose6.error().message.find("2001:db8::/32"), std::string::npos);
  EXPECT_EQ(address_range::parse("192.168.4.0/22")->to_string(), "192.168.4.0/22");
}

}  // namespace
}  // namespace iotxmpp
