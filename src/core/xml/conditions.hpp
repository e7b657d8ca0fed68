#pragma once
// The RFC 6120 error conditions iotxmpp sends or understands: stream errors
// (§4.9.3), which end the stream, and stanza errors (§8.3.3), which do not.

#include <optional>
#include <string_view>

namespace iotxmpp {

enum class stream_condition {
  bad_format,
  conflict,
  connection_timeout,
  host_unknown,
  internal_server_error,
  invalid_namespace,
  invalid_xml,
  not_authorized,
  not_well_formed,
  policy_violation,
  resource_constraint,
  restricted_xml,
  system_shutdown,
  undefined_condition,
  unsupported_encoding,
  unsupported_stanza_type,
  unsupported_version,
};

enum class stanza_condition {
  bad_request,
  conflict,
  feature_not_implemented,
  forbidden,
  internal_server_error,
  item_not_found,
  not_acceptable,
  not_allowed,
  not_authorized,
  policy_violation,
  recipient_unavailable,
  resource_constraint,
  service_unavailable,
  undefined_condition,
  unexpected_request,
};

// The element name of the condition, e.g. "not-well-formed".
std::string_view to_string(stream_condition c);
std::string_view to_string(stanza_condition c);

// The condition named by an element name; nullopt when it is not one.
std::optional<stream_condition> stream_condition_from(std::string_view name);
std::optional<stanza_condition> stanza_condition_from(std::string_view name);

// The RFC 6120 §8.3.2 error type that goes with a stanza condition
// ("modify", "cancel", "wait", "auth").
std::string_view default_error_type(stanza_condition c);

}  // namespace iotxmpp
