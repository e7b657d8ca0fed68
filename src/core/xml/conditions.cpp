#include "core/xml/conditions.hpp"

#include <array>
#include <utility>

namespace iotxmpp {
namespace {

constexpr std::array<std::pair<stream_condition, std::string_view>, 17> stream_names{{
    {stream_condition::bad_format, "bad-format"},
    {stream_condition::conflict, "conflict"},
    {stream_condition::connection_timeout, "connection-timeout"},
    {stream_condition::host_unknown, "host-unknown"},
    {stream_condition::internal_server_error, "internal-server-error"},
    {stream_condition::invalid_namespace, "invalid-namespace"},
    {stream_condition::invalid_xml, "invalid-xml"},
    {stream_condition::not_authorized, "not-authorized"},
    {stream_condition::not_well_formed, "not-well-formed"},
    {stream_condition::policy_violation, "policy-violation"},
    {stream_condition::resource_constraint, "resource-constraint"},
    {stream_condition::restricted_xml, "restricted-xml"},
    {stream_condition::system_shutdown, "system-shutdown"},
    {stream_condition::undefined_condition, "undefined-condition"},
    {stream_condition::unsupported_encoding, "unsupported-encoding"},
    {stream_condition::unsupported_stanza_type, "unsupported-stanza-type"},
    {stream_condition::unsupported_version, "unsupported-version"},
}};

struct stanza_entry {
  stanza_condition condition;
  std::string_view name;
  std::string_view type;
};

constexpr std::array<stanza_entry, 15> stanza_names{{
    {stanza_condition::bad_request, "bad-request", "modify"},
    {stanza_condition::conflict, "conflict", "cancel"},
    {stanza_condition::feature_not_implemented, "feature-not-implemented", "cancel"},
    {stanza_condition::forbidden, "forbidden", "auth"},
    {stanza_condition::internal_server_error, "internal-server-error", "cancel"},
    {stanza_condition::item_not_found, "item-not-found", "cancel"},
    {stanza_condition::not_acceptable, "not-acceptable", "modify"},
    {stanza_condition::not_allowed, "not-allowed", "cancel"},
    {stanza_condition::not_authorized, "not-authorized", "auth"},
    {stanza_condition::policy_violation, "policy-violation", "modify"},
    {stanza_condition::recipient_unavailable, "recipient-unavailable", "wait"},
    {stanza_condition::resource_constraint, "resource-constraint", "wait"},
    {stanza_condition::service_unavailable, "service-unavailable", "cancel"},
    {stanza_condition::undefined_condition, "undefined-condition", "cancel"},
    {stanza_condition::unexpected_request, "unexpected-request", "wait"},
}};

}  // namespace

std::string_view to_string(stream_condition c) {
  for (const auto& [k, v] : stream_names)
    if (k == c) return v;
  return "undefined-condition";
}

std::string_view to_string(stanza_condition c) {
  for (const auto& e : stanza_names)
    if (e.condition == c) return e.name;
  return "undefined-condition";
}

std::optional<stream_condition> stream_condition_from(std::string_view name) {
  for (const auto& [k, v] : stream_names)
    if (v == name) return k;
  return std::nullopt;
}

std::optional<stanza_condition> stanza_condition_from(std::string_view name) {
  for (const auto& e : stanza_names)
    if (e.name == name) return e.condition;
  return std::nullopt;
}

std::string_view default_error_type(stanza_condition c) {
  for (const auto& e : stanza_names)
    if (e.condition == c) return e.type;
  return "cancel";
}

}  // namespace iotxmpp
