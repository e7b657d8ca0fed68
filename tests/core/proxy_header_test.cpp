// proxy_header_parser: real v1 lines and v2 headers (the byte strings
// HAProxy sends), split at every byte, truncated, and malformed in each way
// the specification names; the header's bytes are consumed, never one more.

#include "core/server/proxy_header.hpp"

#include <gtest/gtest.h>

#include <string>

namespace iotxmpp {
namespace {

using status = proxy_header_parser::status;
using kind = proxy_header::kind;

// "0d 0a ..." -> bytes.
std::string hex(std::string_view text) {
  std::string out;
  int digits = 0;
  unsigned v = 0;
  for (char c : text) {
    if (c == ' ') continue;
    v = v * 16 + static_cast<unsigned>(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
    if (++digits == 2) {
      out += static_cast<char>(v);
      digits = 0;
      v = 0;
    }
  }
  return out;
}

const std::string v2_sig = hex("0d0a0d0a 000d0a51 5549540a");

// The first XMPP bytes a device sends after the header.
const std::string xmpp = "<?xml version='1.0'?><stream:stream";

struct parsed {
  proxy_header_parser::outcome last;
  proxy_header_parser parser;
};

// Feeds `input` in one piece.
parsed feed_all(std::string_view input) {
  parsed p{{status::need_more, 0}, {}};
  p.last = p.parser.feed(input);
  return p;
}

// Feeds `input` byte by byte until the parser settles; the total consumed.
std::size_t feed_bytes(proxy_header_parser& parser, std::string_view input, status& last) {
  std::size_t consumed = 0;
  last = status::need_more;
  for (std::size_t i = 0; i < input.size() && last == status::need_more; ++i) {
    auto o = parser.feed(input.substr(i, 1));
    consumed += o.consumed;
    last = o.what;
  }
  return consumed;
}

void expect_malformed(std::string_view input, std::string_view reason_part) {
  auto p = feed_all(input);
  EXPECT_EQ(p.last.what, status::malformed) << testing::PrintToString(std::string(input));
  EXPECT_EQ(p.last.consumed, 0u);
  EXPECT_NE(p.parser.error().find(reason_part), std::string_view::npos)
      << "error: " << p.parser.error();
  // Split anywhere, the verdict is the same.
  proxy_header_parser byte_wise;
  status last{};
  feed_bytes(byte_wise, input, last);
  EXPECT_EQ(last, status::malformed);
}

TEST(ProxyHeaderV1, Tcp4WithTheClientBytesBehindIt) {
  const std::string line = "PROXY TCP4 192.168.0.1 192.168.0.11 56324 5222\r\n";
  auto p = feed_all(line + xmpp);
  ASSERT_EQ(p.last.what, status::done) << p.parser.error();
  EXPECT_EQ(p.last.consumed, line.size());
  const auto& h = p.parser.header();
  EXPECT_EQ(h.version, 1);
  EXPECT_EQ(h.what, kind::proxied);
  EXPECT_FALSE(h.source.ipv6);
  EXPECT_EQ(h.source.address_text(), "192.168.0.1");
  EXPECT_EQ(h.source.port, 56324);
  EXPECT_EQ(h.destination.address_text(), "192.168.0.11");
  EXPECT_EQ(h.destination.port, 5222);
  // Settled: nothing more is taken.
  EXPECT_EQ(p.parser.feed(xmpp).what, status::done);
  EXPECT_EQ(p.parser.feed(xmpp).consumed, 0u);
}

TEST(ProxyHeaderV1, Tcp6LongestAddressesAndExtremePorts) {
  const std::string line =
      "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 2001:db8::1 65535 0\r\n";
  auto p = feed_all(line);
  ASSERT_EQ(p.last.what, status::done) << p.parser.error();
  EXPECT_EQ(p.last.consumed, line.size());
  const auto& h = p.parser.header();
  EXPECT_TRUE(h.source.ipv6);
  EXPECT_EQ(h.source.address_text(), "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
  EXPECT_EQ(h.source.port, 65535);
  EXPECT_EQ(h.destination.address_text(), "2001:db8::1");
  EXPECT_EQ(h.destination.port, 0);
}

TEST(ProxyHeaderV1, UnknownShortAndWorstCaseLength) {
  auto p = feed_all("PROXY UNKNOWN\r\n" + xmpp);
  ASSERT_EQ(p.last.what, status::done);
  EXPECT_EQ(p.last.consumed, 15u);
  EXPECT_EQ(p.parser.header().what, kind::unknown);

  // The specification's worst case: 107 bytes with the CRLF, whatever
  // follows UNKNOWN is ignored.
  const std::string worst =
      "PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
      "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
  ASSERT_EQ(worst.size(), proxy_header_parser::v1_max_bytes);
  auto w = feed_all(worst + xmpp);
  ASSERT_EQ(w.last.what, status::done) << w.parser.error();
  EXPECT_EQ(w.last.consumed, worst.size());
  EXPECT_EQ(w.parser.header().what, kind::unknown);
}

TEST(ProxyHeaderV1, OneByteLongerThan107IsMalformed) {
  const std::string line =
      "PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
      "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 655355\r\n";
  ASSERT_EQ(line.size(), 108u);
  expect_malformed(line, "107");
}

TEST(ProxyHeaderV1, SplitAtEveryByteGivesTheSameHeader) {
  const std::string line = "PROXY TCP4 203.0.113.7 10.0.0.1 40000 5222\r\n";
  proxy_header_parser parser;
  status last{};
  EXPECT_EQ(feed_bytes(parser, line + xmpp, last), line.size());
  ASSERT_EQ(last, status::done);
  EXPECT_EQ(parser.header().source.address_text(), "203.0.113.7");
  EXPECT_EQ(parser.header().source.port, 40000);

  // Two pieces, cut at each position.
  for (std::size_t cut = 1; cut < line.size(); ++cut) {
    proxy_header_parser two;
    auto a = two.feed(std::string_view(line).substr(0, cut));
    ASSERT_EQ(a.what, status::need_more) << cut;
    EXPECT_EQ(a.consumed, cut);
    auto b = two.feed(std::string_view(line + xmpp).substr(cut));
    ASSERT_EQ(b.what, status::done) << cut;
    EXPECT_EQ(cut + b.consumed, line.size());
    EXPECT_EQ(two.header().source.port, 40000);
  }
}

TEST(ProxyHeaderV1, TruncatedNeedsMore) {
  auto p = feed_all("PROXY TCP4 192.168.0.1 192.168.0.11 563");
  EXPECT_EQ(p.last.what, status::need_more);
  EXPECT_EQ(p.last.consumed, 39u);
  EXPECT_EQ(p.parser.bytes_seen(), 39u);
  auto cr = feed_all("PROXY UNKNOWN\r");
  EXPECT_EQ(cr.last.what, status::need_more);
  auto nothing = feed_all("");
  EXPECT_EQ(nothing.last.what, status::need_more);
  EXPECT_EQ(nothing.parser.bytes_seen(), 0u);
}

TEST(ProxyHeaderV1, Malformed) {
  expect_malformed("PROXY TCP4 192.168.0.1 192.168.0.11 56324 5222\n", "LF without CR");
  expect_malformed("PROXY TCP4 192.168.0.1 192.168.0.11 56324 5222\rX", "CR without LF");
  expect_malformed("PROXY TCP4 192.168.0.1 192.168.0.11 56324\r\n", "4 fields");
  expect_malformed("PROXY TCP4 192.168.0.1  192.168.0.11 56324 5222\r\n", "4 fields");
  expect_malformed("PROXY TCP4 192.168.0.1 192.168.0.11 56324 5222 \r\n", "4 fields");
  expect_malformed("PROXY TCP4 192.168.0.01 192.168.0.11 56324 5222\r\n", "IPv4");
  expect_malformed("PROXY TCP4 192.168.0.256 192.168.0.11 56324 5222\r\n", "IPv4");
  expect_malformed("PROXY TCP4 192.168.0 192.168.0.11 56324 5222\r\n", "IPv4");
  expect_malformed("PROXY TCP4 ::1 192.168.0.11 56324 5222\r\n", "IPv4");
  expect_malformed("PROXY TCP6 192.168.0.1 ::1 56324 5222\r\n", "IPv6");
  expect_malformed("PROXY TCP6 ::1 ::1 056324 5222\r\n", "port");
  expect_malformed("PROXY TCP4 1.2.3.4 5.6.7.8 65536 5222\r\n", "port");
  expect_malformed("PROXY TCP4 1.2.3.4 5.6.7.8 -1 5222\r\n", "port");
  expect_malformed("PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n", "unknown protocol");
  expect_malformed("PROXY \r\n", "unknown protocol");
  expect_malformed("PROXY UNKNOWNX\r\n", "unknown protocol");
  expect_malformed("PROXYTCP4 1.2.3.4 5.6.7.8 1 2\r\n", "not a PROXY");
  expect_malformed("proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n", "not a PROXY");
}

TEST(ProxyHeader, OtherProtocolsAreRefusedAtTheirFirstByte) {
  // XMPP, TLS (a ClientHello's record header) and HTTP sent straight to a
  // PROXY listener: refused without waiting for more.
  for (std::string start : {std::string("<"), hex("16 03 01"), std::string("GET / HTTP/1.1"),
                            std::string("PRI * HTTP/2.0")}) {
    proxy_header_parser parser;
    auto o = parser.feed(start);
    EXPECT_EQ(o.what, status::malformed) << start;
    EXPECT_EQ(parser.error(), "not a PROXY protocol header");
  }
}

// A v2 header: version/command, family/protocol, the block after them.
std::string v2(std::string_view ver_cmd, std::string_view fam, const std::string& block) {
  std::string len;
  len += static_cast<char>(block.size() >> 8);
  len += static_cast<char>(block.size() & 0xff);
  return v2_sig + hex(ver_cmd) + hex(fam) + len + block;
}

TEST(ProxyHeaderV2, Tcp4AsHaproxySendsIt) {
  // From a capture of HAProxy's send-proxy-v2: 172.19.0.1:42578 ->
  // 172.19.0.3:80, then the client's request.
  const std::string bytes =
      hex("0d0a0d0a000d0a515549540a 21 11 000c ac130001 ac130003 a652 0050"
          "47455420");
  auto p = feed_all(bytes);
  ASSERT_EQ(p.last.what, status::done) << p.parser.error();
  EXPECT_EQ(p.last.consumed, 28u);
  const auto& h = p.parser.header();
  EXPECT_EQ(h.version, 2);
  EXPECT_EQ(h.what, kind::proxied);
  EXPECT_EQ(h.source.address_text(), "172.19.0.1");
  EXPECT_EQ(h.source.port, 42578);
  EXPECT_EQ(h.destination.address_text(), "172.19.0.3");
  EXPECT_EQ(h.destination.port, 80);
}

TEST(ProxyHeaderV2, Tcp6) {
  const std::string block =
      hex("20010db8000000000000000000000007"  // 2001:db8::7
          "fe800000000000000000000000000001"  // fe80::1
          "9c40 1466");                       // 40000 5222
  auto p = feed_all(v2("21", "21", block) + xmpp);
  ASSERT_EQ(p.last.what, status::done) << p.parser.error();
  EXPECT_EQ(p.last.consumed, 16 + 36u);
  const auto& h = p.parser.header();
  EXPECT_TRUE(h.source.ipv6);
  EXPECT_EQ(h.source.address_text(), "2001:db8::7");
  EXPECT_EQ(h.source.port, 40000);
  EXPECT_EQ(h.destination.address_text(), "fe80::1");
  EXPECT_EQ(h.destination.port, 5222);
}

TEST(ProxyHeaderV2, LocalAsAHealthCheckSendsIt) {
  // HAProxy's check-send-proxy with send-proxy-v2: LOCAL, AF_UNSPEC, no block.
  auto p = feed_all(v2("20", "00", "") + xmpp);
  ASSERT_EQ(p.last.what, status::done) << p.parser.error();
  EXPECT_EQ(p.last.consumed, 16u);
  EXPECT_EQ(p.parser.header().what, kind::local);
  // A LOCAL header may still carry a block: it is skipped, not read.
  auto q = feed_all(v2("20", "11", hex("7f000001 7f000001 0001 0002")));
  ASSERT_EQ(q.last.what, status::done);
  EXPECT_EQ(q.last.consumed, 28u);
  EXPECT_EQ(q.parser.header().what, kind::local);
}

TEST(ProxyHeaderV2, TlvsAreSkipped) {
  // TCP4 plus a NOOP TLV (type 4, 5 bytes) and a unique-id TLV (type 5).
  const std::string block =
      hex("c0000207 c0000201 1f90 1466") + hex("04 0005 0000000000") + hex("05 0003 616263");
  auto p = feed_all(v2("21", "11", block) + xmpp);
  ASSERT_EQ(p.last.what, status::done) << p.parser.error();
  EXPECT_EQ(p.last.consumed, 16 + block.size());
  EXPECT_EQ(p.parser.header().source.address_text(), "192.0.2.7");
  EXPECT_EQ(p.parser.header().source.port, 8080);
}

TEST(ProxyHeaderV2, LargeTlvSplitAtEveryByte) {
  const std::string block =
      hex("c0000207 c0000201 1f90 1466") + hex("04 0400") + std::string(1024, '\x5a');
  const std::string bytes = v2("21", "11", block);
  proxy_header_parser parser;
  status last{};
  EXPECT_EQ(feed_bytes(parser, bytes + xmpp, last), bytes.size());
  ASSERT_EQ(last, status::done) << parser.error();
  EXPECT_EQ(parser.header().source.address_text(), "192.0.2.7");
  EXPECT_EQ(parser.header().destination.port, 5222);
  for (std::size_t cut = 1; cut < bytes.size(); cut += 7) {
    proxy_header_parser two;
    ASSERT_EQ(two.feed(std::string_view(bytes).substr(0, cut)).what, status::need_more);
    auto b = two.feed(std::string_view(bytes + xmpp).substr(cut));
    ASSERT_EQ(b.what, status::done) << cut;
    EXPECT_EQ(cut + b.consumed, bytes.size());
    EXPECT_EQ(two.header().source.port, 8080);
  }
}

TEST(ProxyHeaderV2, FamiliesWithoutATcpAddressFallBackToTheConnection) {
  auto unspec = feed_all(v2("21", "00", ""));
  ASSERT_EQ(unspec.last.what, status::done);
  EXPECT_EQ(unspec.parser.header().what, kind::unknown);
  auto unix_stream = feed_all(v2("21", "31", std::string(216, '\0')));
  ASSERT_EQ(unix_stream.last.what, status::done);
  EXPECT_EQ(unix_stream.last.consumed, 16 + 216u);
  EXPECT_EQ(unix_stream.parser.header().what, kind::unknown);
  auto udp = feed_all(v2("21", "12", hex("c0000207 c0000201 1f90 1466")));
  ASSERT_EQ(udp.last.what, status::done);
  EXPECT_EQ(udp.parser.header().what, kind::unknown);
}

TEST(ProxyHeaderV2, TruncatedNeedsMore) {
  const std::string full = v2("21", "11", hex("c0000207 c0000201 1f90 1466"));
  for (std::size_t n : {std::size_t{1}, std::size_t{12}, std::size_t{16}, full.size() - 1}) {
    auto p = feed_all(std::string_view(full).substr(0, n));
    EXPECT_EQ(p.last.what, status::need_more) << n;
    EXPECT_EQ(p.last.consumed, n);
  }
}

TEST(ProxyHeaderV2, Malformed) {
  const std::string tcp4 = hex("c0000207 c0000201 1f90 1466");
  expect_malformed(v2("11", "11", tcp4), "version 1");
  expect_malformed(v2("31", "11", tcp4), "version 3");
  expect_malformed(v2("22", "11", tcp4), "command 2");
  expect_malformed(v2("21", "41", tcp4), "family/protocol 4/1");
  expect_malformed(v2("21", "13", tcp4), "family/protocol 1/3");
  expect_malformed(v2("21", "11", tcp4.substr(0, 8)), "8 bytes, 12 needed");
  expect_malformed(v2("21", "21", tcp4), "12 bytes, 36 needed");
  std::string bad_sig = v2("21", "11", tcp4);
  bad_sig[7] = 'q';
  expect_malformed(bad_sig, "not a PROXY");
  // A v1-looking start after the v2 signature's first byte.
  expect_malformed("\r\nPROXY TCP4", "not a PROXY");
}

}  // namespace
}  // namespace iotxmpp
