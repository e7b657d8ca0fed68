#pragma once
// Helpers shared by the SCRAM tests: run a whole exchange, read attributes.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "core/sasl/scram.hpp"

namespace iotxmpp::scram_test {

// Where an exchange stopped, and how.
enum class stop : std::uint8_t { none, client_first, server_first, client_final };

struct outcome {
  stop stopped_at = stop::none;
  sasl_condition condition = sasl_condition::aborted;  // when stopped
  std::string client_first;
  std::string server_first;
  std::string client_final;
  std::string server_final;
  bool client_verified = false;  // verify_server_final on server_final
};

inline outcome run(scram_client& client, scram_server& server,
                   const std::optional<scram_keys>& keys) {
  outcome o;
  o.client_first = client.client_first();
  auto first = server.on_client_first(o.client_first);
  if (auto* f = std::get_if<sasl_failure>(&first)) {
    o.stopped_at = stop::client_first;
    o.condition = f->condition;
    return o;
  }
  o.server_first = server.server_first(keys);
  auto final = client.on_server_first(o.server_first);
  if (auto* f = std::get_if<sasl_failure>(&final)) {
    o.stopped_at = stop::server_first;
    o.condition = f->condition;
    return o;
  }
  o.client_final = std::get<std::string>(final);
  auto verdict = server.on_client_final(o.client_final);
  if (auto* f = std::get_if<sasl_failure>(&verdict)) {
    o.stopped_at = stop::client_final;
    o.condition = f->condition;
    return o;
  }
  o.server_final = std::get<std::string>(verdict);
  o.client_verified = client.verify_server_final(o.server_final);
  return o;
}

// The value of attribute `name` in a comma-separated SCRAM message.
inline std::optional<std::string> attr(std::string_view message, char name) {
  std::size_t start = 0;
  while (start <= message.size()) {
    std::size_t comma = message.find(',', start);
    if (comma == std::string_view::npos) comma = message.size();
    const std::string_view part = message.substr(start, comma - start);
    if (part.size() >= 2 && part[0] == name && part[1] == '=') return std::string(part.substr(2));
    start = comma + 1;
  }
  return std::nullopt;
}

}  // namespace iotxmpp::scram_test
