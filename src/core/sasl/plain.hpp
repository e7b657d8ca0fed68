#pragma once
// SASL PLAIN (RFC 4616): [authzid] NUL authcid NUL passwd.

#include <optional>
#include <string>
#include <string_view>

namespace iotxmpp {

struct plain_message {
  std::string authzid;  // empty when absent
  std::string authcid;
  std::string password;
};

// nullopt when the message does not have exactly two NULs, the authcid or
// password is empty, or a field is longer than 255 bytes or not UTF-8.
std::optional<plain_message> parse_plain(std::string_view message);

// NUL authcid NUL passwd (no authzid: the client acts as itself).
std::string make_plain(std::string_view authcid, std::string_view password);

}  // namespace iotxmpp
