#pragma once
// Device accounts (issue 12): a provisioned device logs in with SCRAM (or
// PLAIN over TLS) as NAME and binds NAME@DOMAIN/RESOURCE. The store keeps
// the SCRAM credentials per hash (never the password), a disabled flag, the
// times it was created and last logged in, and the rooms it may report for.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/clock.hpp"

namespace iotxmpp {

// One hash's SCRAM credentials (RFC 5802 §3): what verifies a login without
// the password. Binary strings (raw bytes, not base64).
struct account_credentials {
  std::string hash;  // "SHA-1" or "SHA-256"
  std::string salt;
  std::uint32_t iterations = 0;  // >= 4096
  std::string stored_key;        // H(ClientKey)
  std::string server_key;        // HMAC(SaltedPassword, "Server Key")
};

struct account {
  std::string name;  // valid_account_name()
  bool disabled = false;
  sys_micros created{};
  std::optional<sys_micros> last_login;
  std::vector<account_credentials> credentials;  // at most one per hash
  // Room grants: exact room names, or `prefix*` patterns (the star last, and
  // only there). Ordered, no duplicates.
  std::vector<std::string> rooms;

  // The credentials for `hash`, or null.
  const account_credentials* credentials_for(std::string_view hash) const;
};

// What changed about an account, so live sessions can follow (a node ends
// the sessions of a disabled, removed or narrowed account). Ids increase.
struct account_event {
  std::int64_t id = 0;
  std::string name;
  enum class what : std::uint8_t { disabled, removed, revoked, password } kind = what::disabled;
  sys_micros at{};
};

// 1-64 characters of [a-z0-9._-], starting with a letter or digit: a valid
// JID localpart with no case folding or escaping to get wrong.
bool valid_account_name(std::string_view name);

// A grant is a room name (1-1023 bytes, no '*') or a prefix followed by one
// '*' at the end ("lab-*"; "*" alone grants every room).
bool valid_room_grant(std::string_view grant);

// Whether `room` matches any of `grants`.
bool room_granted(const std::vector<std::string>& grants, std::string_view room);

std::string_view to_string(account_event::what kind);

}  // namespace iotxmpp
