// The SASL failure conditions (sasl_condition.hpp) by their RFC 6120 §6.5 names.

#include "core/sasl/sasl_condition.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace iotxmpp {
namespace {

TEST(SaslCondition, NamesAreThoseOfRfc6120) {
  EXPECT_EQ(to_string(sasl_condition::aborted), "aborted");
  EXPECT_EQ(to_string(sasl_condition::account_disabled), "account-disabled");
  EXPECT_EQ(to_string(sasl_condition::credentials_expired), "credentials-expired");
  EXPECT_EQ(to_string(sasl_condition::encryption_required), "encryption-required");
  EXPECT_EQ(to_string(sasl_condition::incorrect_encoding), "incorrect-encoding");
  EXPECT_EQ(to_string(sasl_condition::invalid_authzid), "invalid-authzid");
  EXPECT_EQ(to_string(sasl_condition::invalid_mechanism), "invalid-mechanism");
  EXPECT_EQ(to_string(sasl_condition::malformed_request), "malformed-request");
  EXPECT_EQ(to_string(sasl_condition::mechanism_too_weak), "mechanism-too-weak");
  EXPECT_EQ(to_string(sasl_condition::not_authorized), "not-authorized");
  EXPECT_EQ(to_string(sasl_condition::temporary_auth_failure), "temporary-auth-failure");
}

TEST(SaslCondition, EveryConditionHasItsOwnName) {
  std::set<std::string> names;
  const auto last = static_cast<int>(sasl_condition::temporary_auth_failure);
  for (int c = 0; c <= last; ++c) names.emplace(to_string(static_cast<sasl_condition>(c)));
  EXPECT_EQ(names.size(), static_cast<std::size_t>(last + 1));
}

}  // namespace
}  // namespace iotxmpp
