// JID parsing, validation and canonical form (RFC 7622 as jid.hpp narrows it).

#include "core/xmpp/jid.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace iotxmpp {
namespace {

struct parse_case {
  std::string input;
  // The canonical form when valid; for an invalid input, the start of the
  // error message ("localpart: ", ...).
  std::string expected;
  bool valid;
};

std::vector<parse_case> parse_cases() {
  const std::string k1023(1023, 'a');
  const std::string k1024(1024, 'a');
  const std::string label63(63, 'b');
  return {
      // valid
      {"iot.local", "iot.local", true},
      {"user@iot.local", "user@iot.local", true},
      {"user@iot.local/phone", "user@iot.local/phone", true},
      {"iot.local/res", "iot.local/res", true},
      {"USER@IoT.LOCAL/Res", "USER@iot.local/Res", true},
      {"iot.local.", "iot.local", true},
      {"localhost", "localhost", true},
      {"a-b.c-d", "a-b.c-d", true},
      {"127.0.0.1", "127.0.0.1", true},
      {"49152@127.0.0.1/sensor", "49152@127.0.0.1/sensor", true},
      {"[::1]", "[::1]", true},
      {"5000@[::1]/r", "5000@[::1]/r", true},
      {"[2001:DB8:0:0:0:0:0:1]", "[2001:db8::1]", true},
      {"[::ffff:10.0.0.1]", "[::ffff:10.0.0.1]", true},
      {"u@d/a/b@c", "u@d/a/b@c", true},
      {"d/with space", "d/with space", true},
      {"d/caf\xC3\xA9", "d/caf\xC3\xA9", true},
      {"caf\xC3\xA9@d", "caf\xC3\xA9@d", true},
      {"b\u00FCcher.example", "b\u00FCcher.example", true},
      {"x@" + label63 + ".com", "x@" + label63 + ".com", true},
      {k1023 + "@d", k1023 + "@d", true},
      {"d/" + k1023, "d/" + k1023, true},
      {"%+!#$*=?^_`{|}~@d", "%+!#$*=?^_`{|}~@d", true},
      // invalid: empty parts
      {"", "domainpart: ", false},
      {"@d", "localpart: ", false},
      {"d/", "resourcepart: ", false},
      {"a@", "domainpart: ", false},
      {"a@/r", "domainpart: ", false},
      {".", "domainpart: ", false},
      {"a..b", "domainpart: ", false},
      // invalid: lengths
      {k1024 + "@d", "localpart: ", false},
      {"d/" + k1024, "resourcepart: ", false},
      {"x@" + std::string(64, 'b') + ".com", "domainpart: ", false},
      // invalid: every forbidden localpart character, spaces, controls
      {"a\"b@d", "localpart: forbidden character '\"'", false},
      {"a&b@d", "localpart: forbidden character '&'", false},
      {"a'b@d", "localpart: forbidden character '''", false},
      {"a:b@d", "localpart: forbidden character ':'", false},
      {"a<b@d", "localpart: forbidden character '<'", false},
      {"a>b@d", "localpart: forbidden character '>'", false},
      {"a@b@d", "domainpart: ", false},  // the first '@' ends the localpart
      {"a b@d", "localpart: space", false},
      {"a\u00A0b@d", "localpart: space", false},
      {"a\tb@d", "localpart: control character", false},
      {"d/a\x7F", "resourcepart: control character", false},
      {"d/a\nb", "resourcepart: control character", false},
      // invalid: UTF-8
      {"a\xFF@d", "localpart: invalid UTF-8", false},
      {"d/\xC3", "resourcepart: invalid UTF-8", false},
      {"d/\xC0\xAF", "resourcepart: invalid UTF-8", false},       // overlong '/'
      {"d/\xED\xA0\x80", "resourcepart: invalid UTF-8", false},   // surrogate
      {"b\303cher.example", "domainpart: invalid UTF-8", false},  // lead byte alone
      // invalid: domainparts
      {"-a.com", "domainpart: label starts with '-'", false},
      {"a-.com", "domainpart: label ends with '-'", false},
      {"a_b.com", "domainpart: invalid character '_'", false},
      {"exa mple.com", "domainpart: invalid character ' '", false},
      {"256.0.0.1", "domainpart: invalid IPv4 address", false},
      {"1.2.3", "domainpart: invalid IPv4 address", false},
      {"[::1", "domainpart: ", false},
      {"[::g]", "domainpart: invalid IPv6 literal", false},
      {"[127.0.0.1]", "domainpart: invalid IPv6 literal", false},
      {"::1", "domainpart: ", false},  // IPv6 needs brackets
  };
}

TEST(JidParse, TableOfValidAndInvalidAddresses) {
  const auto cases = parse_cases();
  ASSERT_GE(cases.size(), 40u);
  for (const auto& c : cases) {
    SCOPED_TRACE("input: " + c.input.substr(0, 80));
    auto parsed = jid::parse(c.input);
    if (c.valid) {
      ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
      EXPECT_EQ(parsed->to_string(), c.expected);
    } else {
      ASSERT_FALSE(parsed.has_value()) << parsed->to_string();
      EXPECT_EQ(parsed.error().message.rfind(c.expected, 0), 0u) << parsed.error().message;
      EXPECT_EQ(parsed.error().kind, error_kind::usage);
      EXPECT_EQ(parsed.error().condition, "jid-malformed");
    }
  }
}

TEST(JidParse, CanonicalFormRoundTrips) {
  for (const auto& c : parse_cases()) {
    if (!c.valid) continue;
    SCOPED_TRACE("input: " + c.input.substr(0, 80));
    auto first = jid::parse(c.input);
    ASSERT_TRUE(first.has_value());
    auto second = jid::parse(first->to_string());
    ASSERT_TRUE(second.has_value()) << second.error().message;
    EXPECT_EQ(*first, *second);
    EXPECT_EQ(second->to_string(), first->to_string());
  }
}

TEST(JidParse, SplitsIntoParts) {
  auto j = jid::parse("Dev@Example.COM./a/b");
  ASSERT_TRUE(j.has_value());
  EXPECT_EQ(j->local(), "Dev");
  EXPECT_EQ(j->domain(), "example.com");
  EXPECT_EQ(j->resource(), "a/b");
  EXPECT_FALSE(j->is_bare());
  EXPECT_FALSE(j->domain_is_ip());
  EXPECT_EQ(j->bare_string(), "Dev@example.com");
  EXPECT_EQ(j->bare(), *jid::parse("Dev@example.com"));
  EXPECT_TRUE(j->bare().is_bare());
}

TEST(JidParse, DomainOnlyHasNoSeparators) {
  auto j = jid::parse("iot.local");
  ASSERT_TRUE(j.has_value());
  EXPECT_TRUE(j->local().empty());
  EXPECT_TRUE(j->is_bare());
  EXPECT_EQ(j->bare_string(), "iot.local");
}

TEST(JidParse, IpLiteralsAreFlagged) {
  EXPECT_TRUE(jid::parse("1@127.0.0.1/r")->domain_is_ip());
  EXPECT_TRUE(jid::parse("[::1]")->domain_is_ip());
  EXPECT_FALSE(jid::parse("host1.example")->domain_is_ip());
}

TEST(JidParse, EqualityIsByCanonicalParts) {
  EXPECT_EQ(*jid::parse("a@EXAMPLE.com/r"), *jid::parse("a@example.com./r"));
  EXPECT_EQ(*jid::parse("[0:0:0:0:0:0:0:1]"), *jid::parse("[::1]"));
  EXPECT_NE(*jid::parse("A@example.com"), *jid::parse("a@example.com"));
  EXPECT_NE(*jid::parse("a@example.com/r"), *jid::parse("a@example.com/R"));
}

TEST(JidMake, EmptyLocalAndResourceMeanAbsent) {
  auto j = jid::make("", "Example.com", "");
  ASSERT_TRUE(j.has_value());
  EXPECT_EQ(j->to_string(), "example.com");
  EXPECT_EQ(jid::make("u", "d", "r")->to_string(), "u@d/r");
}

TEST(JidMake, ValidatesLikeParse) {
  EXPECT_FALSE(jid::make("a/b", "d").has_value());
  EXPECT_FALSE(jid::make("a@b", "d").has_value());
  EXPECT_FALSE(jid::make("u", "").has_value());
  EXPECT_FALSE(jid::make("u", "d/r").has_value());
  EXPECT_FALSE(jid::make("u", "d", "a\x01").has_value());
  auto bad = jid::make("u", "x..y");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message, "domainpart: empty label");
}

TEST(JidMake, DefaultIsEmpty) {
  jid j;
  EXPECT_EQ(j.to_string(), "");
  EXPECT_TRUE(j.is_bare());
}

TEST(JidAddress, PortAtIpv4) {
  auto j = address_jid("127.0.0.1", 49152, "sensor-1");
  ASSERT_TRUE(j.has_value()) << j.error().message;
  EXPECT_EQ(j->to_string(), "49152@127.0.0.1/sensor-1");
  EXPECT_TRUE(j->domain_is_ip());
  EXPECT_EQ(j->local(), "49152");
}

TEST(JidAddress, Ipv6InBracketsCanonical) {
  EXPECT_EQ(address_jid("::1", 5000, "r")->to_string(), "5000@[::1]/r");
  EXPECT_EQ(address_jid("2001:DB8::0:1", 1, "r")->to_string(), "1@[2001:db8::1]/r");
  EXPECT_EQ(address_jid("fe80::1%eth0", 7, "r")->to_string(), "7@[fe80::1]/r");
}

TEST(JidAddress, MappedIpv4WrittenAsIpv4) {
  EXPECT_EQ(address_jid("::ffff:10.0.0.1", 6000, "r")->to_string(), "6000@10.0.0.1/r");
}

TEST(JidAddress, RoundTripsThroughParse) {
  auto j = address_jid("::1", 65535, "a b");
  ASSERT_TRUE(j.has_value());
  EXPECT_EQ(*jid::parse(j->to_string()), *j);
}

TEST(JidAddress, RejectsNonAddressesAndBadResources) {
  EXPECT_FALSE(address_jid("localhost", 1, "r").has_value());
  EXPECT_FALSE(address_jid("[::1]", 1, "r").has_value());
  EXPECT_FALSE(address_jid("", 1, "r").has_value());
  EXPECT_FALSE(address_jid("127.0.0.1", 1, "r\n").has_value());
}

}  // namespace
}  // namespace iotxmpp
