#pragma once
// XMPP addresses (RFC 7622): localpart@domainpart/resourcepart.
//
// What is checked, and what is deliberately not:
// - every part is valid UTF-8 of at most 1023 bytes; the domainpart is never
//   empty; a localpart or resourcepart, when its separator is present, is not
//   empty either;
// - the localpart has none of " & ' / : < > @, no space and no control
//   character; its case is kept (no PRECIS case mapping);
// - the resourcepart has no control character; spaces and case are kept;
// - the domainpart is an IPv4 literal, an IPv6 literal in brackets (printed in
//   its canonical compressed lower-case form), or a DNS-like name of
//   dot-separated labels of letters, digits and inner hyphens, each at most 63
//   bytes, ASCII folded to lower case, one trailing dot removed. Non-ASCII
//   labels are accepted as valid UTF-8 without any IDNA mapping, so "bücher"
//   and its A-label "xn--bcher-kva" are two different domains;
// - no Unicode normalization (NFC) is applied to any part.

#include <cstdint>
#include <string>
#include <string_view>

#include "core/base/error.hpp"

namespace iotxmpp {

class jid {
 public:
  // The empty address: no part set, to_string() == "". Not a valid JID; a
  // placeholder for a session that has not bound one yet.
  jid() = default;

  // Parses "local@domain/resource" (local and resource optional). The
  // resource is everything after the first '/', so it may hold '@' and '/'.
  // On failure: error_kind::usage, condition "jid-malformed", message
  // "<part>: <reason>". Callers checking a peer's input map it as they need.
  static result<jid> parse(std::string_view text);

  // Builds from parts with the same checks; an empty local or resource means
  // that part is absent.
  static result<jid> make(std::string_view local, std::string_view domain,
                          std::string_view resource = {});

  std::string_view local() const { return std::string_view(text_).substr(0, local_size_); }
  std::string_view domain() const {
    return std::string_view(text_).substr(domain_at(), domain_size_);
  }
  std::string_view resource() const {
    const std::size_t end = domain_at() + domain_size_;
    return end < text_.size() ? std::string_view(text_).substr(end + 1) : std::string_view();
  }

  // True when there is no resourcepart.
  bool is_bare() const { return domain_at() + domain_size_ == text_.size(); }
  // This address without its resourcepart.
  jid bare() const;

  // "local@domain/resource" with the canonical domain; absent parts and their
  // separators left out. Kept as one string, so this costs no copy.
  const std::string& to_string() const { return text_; }
  // "local@domain" (or "domain").
  std::string bare_string() const;

  // True when the domainpart is an IPv4 or a bracketed IPv6 literal.
  bool domain_is_ip() const { return domain_is_ip_; }

  friend bool operator==(const jid&, const jid&) = default;

 private:
  std::size_t domain_at() const { return local_size_ ? local_size_ + 1u : 0u; }

  // One string and the parts' sizes (each part is at most 1023 bytes): a
  // bound session holds its JID, so it is kept small.
  std::string text_;
  std::uint16_t local_size_ = 0;
  std::uint16_t domain_size_ = 0;
  bool domain_is_ip_ = false;
};

// The seed's addressing for anonymous devices: PORT@IP/RESOURCE. `address`
// is the textual IP without brackets ("127.0.0.1", "::1"). An IPv4-mapped
// IPv6 address ("::ffff:10.0.0.1") is written in its IPv4 form; other IPv6
// addresses go in brackets, canonical. A zone suffix ("fe80::1%eth0") is
// dropped: it names an interface of this host, not the peer. Fails like
// jid::make when the address is not an IP or the resource is invalid.
result<jid> address_jid(std::string_view address, unsigned short port, std::string_view resource);

}  // namespace iotxmpp
