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

#include <string>
#include <string_view>

#include "core/error.hpp"

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

  const std::string& local() const { return local_; }
  const std::string& domain() const { return domain_; }
  const std::string& resource() const { return resource_; }

  // True when there is no resourcepart.
  bool is_bare() const { return resource_.empty(); }
  // This address without its resourcepart.
  jid bare() const;

  // "local@domain/resource" with the canonical domain; absent parts and their
  // separators left out.
  std::string to_string() const;
  // "local@domain" (or "domain").
  std::string bare_string() const;

  // True when the domainpart is an IPv4 or a bracketed IPv6 literal.
  bool domain_is_ip() const { return domain_is_ip_; }

  friend bool operator==(const jid&, const jid&) = default;

 private:
  std::string local_;
  std::string domain_;
  std::string resource_;
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
