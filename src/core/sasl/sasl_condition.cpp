#include "core/sasl/sasl_condition.hpp"

namespace iotxmpp {

std::string_view to_string(sasl_condition c) {
  switch (c) {
    case sasl_condition::aborted:
      return "aborted";
    case sasl_condition::account_disabled:
      return "account-disabled";
    case sasl_condition::credentials_expired:
      return "credentials-expired";
    case sasl_condition::encryption_required:
      return "encryption-required";
    case sasl_condition::incorrect_encoding:
      return "incorrect-encoding";
    case sasl_condition::invalid_authzid:
      return "invalid-authzid";
    case sasl_condition::invalid_mechanism:
      return "invalid-mechanism";
    case sasl_condition::malformed_request:
      return "malformed-request";
    case sasl_condition::mechanism_too_weak:
      return "mechanism-too-weak";
    case sasl_condition::not_authorized:
      return "not-authorized";
    case sasl_condition::temporary_auth_failure:
      return "temporary-auth-failure";
  }
  return "not-authorized";
}

}  // namespace iotxmpp
