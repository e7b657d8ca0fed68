#include "core/base/host_port.hpp"

#include <gtest/gtest.h>

namespace iotxmpp {
namespace {

const host_port_rules port_required{};
const host_port_rules port_optional{.default_port = 5222};
const host_port_rules listener{.default_port = std::nullopt, .allow_port_zero = true};

TEST(HostPort, ParsesNamesV4AndBracketedV6) {
  EXPECT_EQ(parse_host_port("example.org:5223", port_required), (host_port{"example.org", 5223}));
  EXPECT_EQ(parse_host_port("10.0.0.1:1", port_required), (host_port{"10.0.0.1", 1}));
  EXPECT_EQ(parse_host_port("[::1]:65535", port_required), (host_port{"::1", 65535}));
  EXPECT_EQ(parse_host_port("[::]:5222", port_required), (host_port{"::", 5222}));
  EXPECT_EQ(parse_host_port("[fe80::1%eth0]:7", port_required), (host_port{"fe80::1%eth0", 7}));
}

TEST(HostPort, DefaultPortAllowsLeavingThePortOut) {
  EXPECT_EQ(parse_host_port("example.org", port_optional), (host_port{"example.org", 5222}));
  EXPECT_EQ(parse_host_port("[::1]", port_optional), (host_port{"::1", 5222}));
  EXPECT_EQ(parse_host_port("fe80::1", port_optional), (host_port{"fe80::1", 5222}));
  EXPECT_EQ(parse_host_port("h:80", port_optional), (host_port{"h", 80}));
}

TEST(HostPort, PortZeroOnlyWhenAllowed) {
  EXPECT_EQ(parse_host_port("127.0.0.1:0", listener), (host_port{"127.0.0.1", 0}));
  EXPECT_EQ(parse_host_port("[::]:0", listener), (host_port{"::", 0}));
  auto r = parse_host_port("127.0.0.1:0", port_required);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "port '0' is not a number in 1-65535");
}

TEST(HostPort, ErrorsSayExactlyWhatIsWrong) {
  struct bad_case {
    const char* text;
    const host_port_rules* rules;
    const char* message;
  };
  for (const bad_case& c : std::initializer_list<bad_case>{
           {"", &port_optional, "empty address"},
           {"[::1", &port_optional, "missing ']' after the IPv6 address"},
           {"[::1]x", &port_optional, "expected ':PORT' after ']'"},
           {"[]:1", &port_optional, "empty host between '[' and ']'"},
           {":5222", &port_optional, "empty host before ':'"},
           {"host:", &port_optional, "empty port after ':' (expected a number in 1-65535)"},
           {"host:", &listener, "empty port after ':' (expected a number in 0-65535)"},
           {"host:70000", &port_optional, "port '70000' is not a number in 1-65535"},
           {"host:x1", &port_optional, "port 'x1' is not a number in 1-65535"},
           {"host:-1", &port_optional, "port '-1' is not a number in 1-65535"},
           {"host:+1", &port_optional, "port '+1' is not a number in 1-65535"},
           {"host", &port_required, "missing ':PORT'"},
           {"[::1]", &port_required, "missing ':PORT'"},
           {"::1:5222", &port_required, "an IPv6 address needs brackets: [ADDRESS]:PORT"},
       }) {
    auto r = parse_host_port(c.text, *c.rules);
    ASSERT_FALSE(r) << c.text;
    EXPECT_EQ(r.error().kind, error_kind::usage) << c.text;
    EXPECT_EQ(r.error().message, c.message) << c.text;
  }
}

TEST(HostPort, FormatsIpv6InBracketsAndReadsBack) {
  EXPECT_EQ(format_host_port("example.org", 5222), "example.org:5222");
  EXPECT_EQ(format_host_port("10.0.0.1", 0), "10.0.0.1:0");
  EXPECT_EQ(format_host_port("::1", 5222), "[::1]:5222");
  EXPECT_EQ(format_host_port(host_port{"::ffff:10.0.0.1", 1}), "[::ffff:10.0.0.1]:1");
  EXPECT_EQ(bracketed_host("db.example"), "db.example");
  EXPECT_EQ(bracketed_host("::1"), "[::1]");
  for (const host_port& a :
       {host_port{"h", 1}, host_port{"::1", 5222}, host_port{"1.2.3.4", 65535}})
    EXPECT_EQ(parse_host_port(format_host_port(a), port_required), a) << format_host_port(a);
}

}  // namespace
}  // namespace iotxmpp
