#include "core/xmpp/jid.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>

#include "core/base/utf8.hpp"

namespace iotxmpp {
namespace {

constexpr std::size_t max_part = 1023;
constexpr std::size_t max_label = 63;
// Longer than any textual IPv4 or IPv6 address (INET6_ADDRSTRLEN is 46).
constexpr std::size_t ip_buffer = 64;

std::unexpected<error> malformed(std::string_view part, std::string_view why) {
  std::string message;
  message.reserve(part.size() + 2 + why.size());
  message.append(part).append(": ").append(why);
  return fail(error_kind::usage, std::move(message), "jid-malformed");
}

bool is_control(char32_t c) { return c < 0x20 || (c >= 0x7F && c <= 0x9F); }

// The Unicode space separators (Zs) and the line/paragraph separators.
bool is_space(char32_t c) {
  return c == 0x20 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 ||
         c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

// Walks `text` as UTF-8 and returns the reason the first bad character is
// bad, or "" when all are fine. `reject(code_point)` gives that reason.
template <class Reject>
std::string first_problem(std::string_view text, Reject reject) {
  for (std::size_t i = 0; i < text.size();) {
    const auto d = utf8::decode(text, i);
    if (d.length == 0) return "invalid UTF-8";
    if (std::string why = reject(d.code_point); !why.empty()) return why;
    i += d.length;
  }
  return {};
}

std::string local_problem(std::string_view local) {
  if (local.size() > max_part) return "longer than 1023 bytes";
  return first_problem(local, [](char32_t c) -> std::string {
    if (is_control(c)) return "control character";
    if (is_space(c)) return "space";
    switch (c) {
      case '"':
      case '&':
      case '\'':
      case '/':
      case ':':
      case '<':
      case '>':
      case '@':
        return std::string("forbidden character '") + static_cast<char>(c) + "'";
      default:
        return {};
    }
  });
}

std::string resource_problem(std::string_view resource) {
  if (resource.size() > max_part) return "longer than 1023 bytes";
  return first_problem(
      resource, [](char32_t c) -> std::string { return is_control(c) ? "control character" : ""; });
}

// inet_pton wants a NUL-terminated string; false when `text` cannot be one.
bool to_c_string(std::string_view text, char (&buffer)[ip_buffer]) {
  if (text.size() >= ip_buffer) return false;
  std::memcpy(buffer, text.data(), text.size());
  buffer[text.size()] = '\0';
  return true;
}

// The canonical text of an IPv4 address, or "" when `text` is not one.
std::string canonical_ipv4(std::string_view text) {
  char buffer[ip_buffer];
  in_addr address{};
  if (!to_c_string(text, buffer) || inet_pton(AF_INET, buffer, &address) != 1) return {};
  char out[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &address, out, sizeof out);
  return out;
}

// "a.b.c.d" for an IPv4-mapped address, "[x:y::z]" for any other IPv6
// address, "" when `text` is not an IPv6 address.
std::string canonical_ipv6(std::string_view text, bool unmap_ipv4) {
  char buffer[ip_buffer];
  in6_addr address{};
  if (!to_c_string(text, buffer) || inet_pton(AF_INET6, buffer, &address) != 1) return {};
  if (unmap_ipv4 && IN6_IS_ADDR_V4MAPPED(&address)) {
    in_addr v4{};
    std::memcpy(&v4, address.s6_addr + 12, sizeof v4);
    char out[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &v4, out, sizeof out);
    return out;
  }
  char out[INET6_ADDRSTRLEN];
  inet_ntop(AF_INET6, &address, out, sizeof out);
  std::string bracketed;
  bracketed.reserve(std::strlen(out) + 2);
  bracketed.append(1, '[').append(out).append(1, ']');
  return bracketed;
}

struct canonical_domain {
  std::string text;
  bool is_ip = false;
};

result<canonical_domain> dns_name(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  std::size_t label = 0;  // bytes in the current label so far
  const auto end_label = [&]() -> std::string_view {
    if (label == 0) return "empty label";
    if (out.back() == '-') return "label ends with '-'";
    return {};
  };
  for (std::size_t i = 0; i < name.size();) {
    const unsigned char c = static_cast<unsigned char>(name[i]);
    if (c == '.') {
      if (auto why = end_label(); !why.empty()) return malformed("domainpart", why);
      out.push_back('.');
      label = 0;
      ++i;
      continue;
    }
    std::size_t length = 1;
    if (c >= 'A' && c <= 'Z') {
      out.push_back(static_cast<char>(c - 'A' + 'a'));
    } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      out.push_back(static_cast<char>(c));
    } else if (c == '-') {
      if (label == 0) return malformed("domainpart", "label starts with '-'");
      out.push_back('-');
    } else if (c < 0x80) {
      if (is_control(c)) return malformed("domainpart", "control character");
      return malformed("domainpart",
                       std::string("invalid character '") + static_cast<char>(c) + "'");
    } else {
      const auto d = utf8::decode(name, i);
      if (d.length == 0) return malformed("domainpart", "invalid UTF-8");
      if (is_control(d.code_point)) return malformed("domainpart", "control character");
      if (is_space(d.code_point)) return malformed("domainpart", "space");
      out.append(name.substr(i, d.length));
      length = d.length;
    }
    label += length;
    if (label > max_label) return malformed("domainpart", "label longer than 63 bytes");
    i += length;
  }
  if (auto why = end_label(); !why.empty()) return malformed("domainpart", why);
  return canonical_domain{std::move(out), false};
}

result<canonical_domain> canonicalize_domain(std::string_view domain) {
  if (domain.size() > max_part) return malformed("domainpart", "longer than 1023 bytes");
  if (!domain.empty() && domain.front() == '[') {
    if (domain.size() < 2 || domain.back() != ']')
      return malformed("domainpart", "IPv6 literal without closing ']'");
    std::string v6 = canonical_ipv6(domain.substr(1, domain.size() - 2), false);
    if (v6.empty()) return malformed("domainpart", "invalid IPv6 literal");
    return canonical_domain{std::move(v6), true};
  }
  if (!domain.empty() && domain.back() == '.') domain.remove_suffix(1);
  if (domain.empty()) return malformed("domainpart", "empty");
  // All digits and dots cannot be a host name (its top label would be
  // numeric), so it has to be an IPv4 literal.
  if (std::all_of(domain.begin(), domain.end(),
                  [](char c) { return c == '.' || (c >= '0' && c <= '9'); })) {
    std::string v4 = canonical_ipv4(domain);
    if (v4.empty()) return malformed("domainpart", "invalid IPv4 address");
    return canonical_domain{std::move(v4), true};
  }
  return dns_name(domain);
}

}  // namespace

result<jid> jid::make(std::string_view local, std::string_view domain, std::string_view resource) {
  if (auto why = local_problem(local); !why.empty()) return malformed("localpart", why);
  if (auto why = resource_problem(resource); !why.empty()) return malformed("resourcepart", why);
  auto canonical = canonicalize_domain(domain);
  if (!canonical) return std::unexpected(std::move(canonical.error()));
  jid out;
  const std::string& domain_text = canonical->text;
  out.text_.reserve(local.size() + domain_text.size() + resource.size() + 2);
  if (!local.empty()) out.text_.append(local).append(1, '@');
  out.text_.append(domain_text);
  if (!resource.empty()) out.text_.append(1, '/').append(resource);
  out.local_size_ = static_cast<std::uint16_t>(local.size());
  out.domain_size_ = static_cast<std::uint16_t>(domain_text.size());
  out.domain_is_ip_ = canonical->is_ip;
  return out;
}

result<jid> jid::parse(std::string_view text) {
  std::string_view rest = text;
  std::string_view resource;
  if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
    resource = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
    if (resource.empty()) return malformed("resourcepart", "empty after '/'");
  }
  std::string_view local;
  if (const auto at = rest.find('@'); at != std::string_view::npos) {
    local = rest.substr(0, at);
    rest = rest.substr(at + 1);
    if (local.empty()) return malformed("localpart", "empty before '@'");
  }
  return make(local, rest, resource);
}

jid jid::bare() const {
  jid out = *this;
  out.text_.resize(domain_at() + domain_size_);
  return out;
}

std::string jid::bare_string() const { return text_.substr(0, domain_at() + domain_size_); }

result<jid> address_jid(std::string_view address, unsigned short port, std::string_view resource) {
  if (const auto zone = address.find('%'); zone != std::string_view::npos)
    address = address.substr(0, zone);
  std::string domain = canonical_ipv4(address);
  if (domain.empty()) domain = canonical_ipv6(address, true);
  if (domain.empty()) return malformed("domainpart", "not an IP address");
  return jid::make(std::to_string(port), domain, resource);
}

}  // namespace iotxmpp
