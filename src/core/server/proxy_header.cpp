#include "core/server/proxy_header.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace iotxmpp {
namespace {

constexpr std::string_view v1_prefix = "PROXY ";
constexpr std::array<std::uint8_t, 12> v2_signature{0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                                    0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
constexpr std::size_t v2_fixed = 16;  // signature, version/command, family, length
constexpr std::size_t v2_kept = 36;   // two IPv6 addresses and two ports

// A decimal in [0, max] with no sign and no leading zero ("0" itself is fine).
bool parse_decimal(std::string_view s, unsigned max, unsigned& out) {
  if (s.empty() || s.size() > 5 || (s.size() > 1 && s[0] == '0')) return false;
  unsigned v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  if (v > max) return false;
  out = v;
  return true;
}

// Four decimals 0-255 joined by single dots, as v1 requires (no leading
// zeros: "010" could be octal to someone).
bool parse_ipv4(std::string_view s, proxy_endpoint& out) {
  for (int i = 0; i < 4; ++i) {
    const auto dot = i < 3 ? s.find('.') : s.size();
    if (dot == std::string_view::npos) return false;
    unsigned v = 0;
    if (dot > 3 || !parse_decimal(s.substr(0, dot), 255, v)) return false;
    out.address[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v);
    s.remove_prefix(i < 3 ? dot + 1 : dot);
  }
  out.ipv6 = false;
  return s.empty();
}

bool parse_ipv6(std::string_view s, proxy_endpoint& out) {
  if (s.empty() || s.size() > 45) return false;  // INET6_ADDRSTRLEN - 1
  char text[46];
  std::memcpy(text, s.data(), s.size());
  text[s.size()] = '\0';
  if (inet_pton(AF_INET6, text, out.address.data()) != 1) return false;
  out.ipv6 = true;
  return true;
}

// Splits on single spaces: "a b" -> {a, b}; "a  b" has an empty field.
std::vector<std::string_view> fields_of(std::string_view s) {
  std::vector<std::string_view> out;
  for (;;) {
    const auto space = s.find(' ');
    out.push_back(s.substr(0, space));
    if (space == std::string_view::npos) return out;
    s.remove_prefix(space + 1);
  }
}

std::uint16_t big_endian16(const char* p) {
  return static_cast<std::uint16_t>((static_cast<unsigned char>(p[0]) << 8) |
                                    static_cast<unsigned char>(p[1]));
}

}  // namespace

std::string proxy_endpoint::address_text() const {
  char text[INET6_ADDRSTRLEN] = {};
  if (!inet_ntop(ipv6 ? AF_INET6 : AF_INET, address.data(), text, sizeof text)) return {};
  return text;
}

proxy_header_parser::outcome proxy_header_parser::fail(std::string reason) {
  status_ = status::malformed;
  error_ = std::move(reason);
  return {status_, 0};
}

proxy_header_parser::outcome proxy_header_parser::feed(std::string_view input) {
  if (status_ != status::need_more) return {status_, 0};
  std::size_t i = 0;
  while (i < input.size()) {
    if (form_ == form::v2 && seen_ >= v2_fixed) {
      // The address block and any TLVs: keep what the addresses need, count
      // the rest without copying it.
      const std::size_t take = std::min(v2_fixed + v2_block_ - seen_, input.size() - i);
      const std::size_t at = seen_ - v2_fixed;
      if (at < v2_kept) {
        const std::size_t keep = std::min(take, v2_kept - at);
        std::memcpy(buffer_.data() + v2_fixed + at, input.data() + i, keep);
        held_ += keep;
      }
      i += take;
      seen_ += take;
    } else {
      const char c = input[i++];
      ++seen_;
      if (form_ == form::undecided) {
        if (c == 'P')
          form_ = form::v1;
        else if (static_cast<unsigned char>(c) == v2_signature[0])
          form_ = form::v2;
        else
          return fail("not a PROXY protocol header");
      }
      if (!(form_ == form::v1 ? v1_byte(c) : v2_byte(c))) return {status_, 0};
      if (status_ == status::done) return {status_, i};
    }
    if (form_ == form::v2 && seen_ >= v2_fixed && seen_ == v2_fixed + v2_block_) {
      finish_v2();
      return {status_, status_ == status::done ? i : 0};
    }
  }
  return {status::need_more, input.size()};
}

bool proxy_header_parser::v1_byte(char c) {
  if (held_ < v1_prefix.size() && c != v1_prefix[held_]) {
    fail("not a PROXY protocol header");
    return false;
  }
  const bool after_cr = held_ > 0 && buffer_[held_ - 1] == '\r';
  if (c == '\n' && !after_cr) {
    fail("v1: LF without CR");
    return false;
  }
  if (c != '\n' && after_cr) {
    fail("v1: CR without LF");
    return false;
  }
  buffer_[held_++] = c;
  if (c == '\n') {
    finish_v1();
    return status_ != status::malformed;
  }
  if (held_ == v1_max_bytes) {
    fail("v1: no CRLF within 107 bytes");
    return false;
  }
  return true;
}

void proxy_header_parser::finish_v1() {
  header_ = {};
  header_.version = 1;
  // Without "PROXY " and the CRLF.
  std::string_view rest(buffer_.data() + v1_prefix.size(), held_ - v1_prefix.size() - 2);
  const auto fields = fields_of(rest);
  if (fields[0] == "UNKNOWN") {  // the rest of the line is to be ignored
    header_.what = proxy_header::kind::unknown;
    status_ = status::done;
    return;
  }
  if (fields[0] != "TCP4" && fields[0] != "TCP6") {
    fail("v1: unknown protocol '" + std::string(fields[0].substr(0, 8)) + "'");
    return;
  }
  if (fields.size() != 5) {
    fail("v1: expected 4 fields after " + std::string(fields[0]) + ", each after one space");
    return;
  }
  const bool v6 = fields[0] == "TCP6";
  proxy_endpoint& src = header_.source;
  proxy_endpoint& dst = header_.destination;
  if (!(v6 ? parse_ipv6(fields[1], src) : parse_ipv4(fields[1], src)) ||
      !(v6 ? parse_ipv6(fields[2], dst) : parse_ipv4(fields[2], dst))) {
    fail(std::string("v1: not an ") + (v6 ? "IPv6" : "IPv4") + " address");
    return;
  }
  unsigned sport = 0, dport = 0;
  if (!parse_decimal(fields[3], 65535, sport) || !parse_decimal(fields[4], 65535, dport)) {
    fail("v1: not a port");
    return;
  }
  src.port = static_cast<std::uint16_t>(sport);
  dst.port = static_cast<std::uint16_t>(dport);
  header_.what = proxy_header::kind::proxied;
  status_ = status::done;
}

bool proxy_header_parser::v2_byte(char c) {
  const auto b = static_cast<unsigned char>(c);
  if (held_ < v2_signature.size() && b != v2_signature[held_]) {
    fail("not a PROXY protocol header");
    return false;
  }
  if (held_ == 12) {
    if ((b >> 4) != 2) {
      fail("v2: version " + std::to_string(b >> 4));
      return false;
    }
    if ((b & 0x0F) > 1) {
      fail("v2: command " + std::to_string(b & 0x0F));
      return false;
    }
  }
  if (held_ == 13 && ((b >> 4) > 3 || (b & 0x0F) > 2)) {
    fail("v2: family/protocol " + std::to_string(b >> 4) + "/" + std::to_string(b & 0x0F));
    return false;
  }
  buffer_[held_++] = c;
  if (held_ == v2_fixed) {
    v2_block_ = big_endian16(buffer_.data() + 14);
    const unsigned cmd = static_cast<unsigned char>(buffer_[12]) & 0x0F;
    const unsigned fam = static_cast<unsigned char>(buffer_[13]);
    // TCP over IPv4 (0x11) or IPv6 (0x21) needs its addresses and ports.
    const std::size_t need = fam == 0x11 ? 12 : fam == 0x21 ? 36 : 0;
    if (cmd == 1 && v2_block_ < need) {
      fail("v2: address block of " + std::to_string(v2_block_) + " bytes, " + std::to_string(need) +
           " needed");
      return false;
    }
  }
  return true;
}

void proxy_header_parser::finish_v2() {
  header_ = {};
  header_.version = 2;
  const unsigned cmd = static_cast<unsigned char>(buffer_[12]) & 0x0F;
  const unsigned fam = static_cast<unsigned char>(buffer_[13]);
  status_ = status::done;
  if (cmd == 0) {
    header_.what = proxy_header::kind::local;
    return;
  }
  // AF_UNSPEC, AF_UNIX and UDP: nothing a TCP session can use; the
  // specification's fallback is the real connection's endpoints.
  if (fam != 0x11 && fam != 0x21) {
    header_.what = proxy_header::kind::unknown;
    return;
  }
  const bool v6 = fam == 0x21;
  const std::size_t n = v6 ? 16 : 4;
  const char* block = buffer_.data() + v2_fixed;
  header_.source.ipv6 = header_.destination.ipv6 = v6;
  std::memcpy(header_.source.address.data(), block, n);
  std::memcpy(header_.destination.address.data(), block + n, n);
  header_.source.port = big_endian16(block + 2 * n);
  header_.destination.port = big_endian16(block + 2 * n + 2);
  header_.what = proxy_header::kind::proxied;
}

}  // namespace iotxmpp
