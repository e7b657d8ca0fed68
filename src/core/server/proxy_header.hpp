#pragma once
// The PROXY protocol header (HAProxy's doc/proxy-protocol.txt, versions 1
// and 2) that a load balancer sends before the client's first byte, saying
// whom it relays. No I/O: bytes in, as they arrive (split at any byte);
// out comes need-more, done (the header, and how many of the bytes were
// its end) or malformed (a reason). It never asks for a byte past the
// header, so the caller can leave the client's own bytes (XML, or a TLS
// ClientHello) unread in the socket.
//
// Accepted, as the specification has them:
//  - v1, one text line of at most 107 bytes with its CRLF:
//    "PROXY TCP4 SRC DST SPORT DPORT\r\n", "PROXY TCP6 ...", and
//    "PROXY UNKNOWN[ anything]\r\n". Exactly one space between fields;
//    IPv4 as four decimals without leading zeros; ports 0-65535 without
//    leading zeros. A lone CR or LF is malformed.
//  - v2, the 12-byte signature, version 2, command LOCAL or PROXY, family
//    AF_UNSPEC/AF_INET/AF_INET6/AF_UNIX, protocol UNSPEC/STREAM/DGRAM, and
//    the address block its length announces. TLVs after the addresses are
//    skipped (never buffered).
// The first byte that cannot start or continue either form makes it
// malformed at once: a client that speaks XMPP or TLS straight to a PROXY
// listener is told apart without waiting.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace iotxmpp {

// An address and port as a header carries them.
struct proxy_endpoint {
  bool ipv6 = false;
  // Network byte order: the first 4 bytes for IPv4, all 16 for IPv6.
  std::array<std::uint8_t, 16> address{};
  std::uint16_t port = 0;

  // "192.0.2.7", "2001:db8::1" (the usual text forms).
  std::string address_text() const;
};

struct proxy_header {
  int version = 0;  // 1 or 2
  enum class kind : std::uint8_t {
    // Relayed on behalf of a client: `source` is the client (the device),
    // `destination` the address it connected to on the proxy.
    proxied,
    // v2 LOCAL: the proxy's own connection (a health check). Use the real
    // connection's endpoints.
    local,
    // v1 UNKNOWN, or v2 PROXY over what the header carries no TCP address
    // for (AF_UNSPEC, AF_UNIX, UDP): use the real connection's endpoints.
    unknown,
  } what = kind::unknown;
  proxy_endpoint source;       // set only when proxied
  proxy_endpoint destination;  // set only when proxied
};

// Not thread-safe; one parser per connection.
class proxy_header_parser {
 public:
  // The longest v1 line, CRLF included ("PROXY UNKNOWN" with two full IPv6
  // addresses and ports).
  static constexpr std::size_t v1_max_bytes = 107;

  enum class status { need_more, done, malformed };
  struct outcome {
    status what;
    // Bytes of this input that belong to the header: all of it on
    // need_more, up to and including the header's last byte on done, 0 on
    // malformed. The caller removes exactly these from its stream.
    std::size_t consumed;
  };

  // Scans `input`, the bytes that follow what earlier calls consumed.
  // Once done or malformed, every later call returns the same status with
  // consumed 0.
  outcome feed(std::string_view input);

  // After done.
  const proxy_header& header() const { return header_; }
  // After malformed: what was wrong, for a log line ("not a PROXY protocol
  // header", "v2 version 3", ...).
  std::string_view error() const { return error_; }
  // Bytes consumed so far: 0 means nothing of a header arrived yet.
  std::size_t bytes_seen() const { return seen_; }

 private:
  enum class form : std::uint8_t { undecided, v1, v2 };
  outcome fail(std::string reason);
  bool v1_byte(char c);  // false once malformed
  bool v2_byte(char c);
  void finish_v1();
  void finish_v2();

  form form_ = form::undecided;
  status status_ = status::need_more;
  std::size_t seen_ = 0;
  // v1: the line so far; v2: the 16-byte fixed part, then the first 36
  // bytes of the address block (the most an IPv6 TCP block uses).
  std::array<char, v1_max_bytes> buffer_{};
  std::size_t held_ = 0;
  std::size_t v2_block_ = 0;  // v2: the address block's announced length
  proxy_header header_;
  std::string error_;
};

}  // namespace iotxmpp
