#pragma once
// The SASL failure conditions of RFC 6120 §6.5, as <failure/> carries them.

#include <cstdint>
#include <string_view>

namespace iotxmpp {

enum class sasl_condition : std::uint8_t {
  aborted,
  account_disabled,
  credentials_expired,
  encryption_required,
  incorrect_encoding,
  invalid_authzid,
  invalid_mechanism,
  malformed_request,
  mechanism_too_weak,
  not_authorized,
  temporary_auth_failure,
};

// The element name: "not-authorized", "temporary-auth-failure", ...
std::string_view to_string(sasl_condition c);

}  // namespace iotxmpp
