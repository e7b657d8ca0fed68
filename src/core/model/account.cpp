#include "core/model/account.hpp"

#include <algorithm>

#include "core/model/limits.hpp"

namespace iotxmpp {

const account_credentials* account::credentials_for(std::string_view hash) const {
  for (const auto& c : credentials)
    if (c.hash == hash) return &c;
  return nullptr;
}

bool valid_account_name(std::string_view name) {
  if (name.empty() || name.size() > limits::account_name.max) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(name.front())) return false;
  return std::all_of(name.begin(), name.end(),
                     [&](char c) { return alnum(c) || c == '.' || c == '_' || c == '-'; });
}

bool valid_room_grant(std::string_view grant) {
  if (grant.empty() || grant.size() > limits::room_grant.max) return false;
  auto star = grant.find('*');
  return star == std::string_view::npos || star == grant.size() - 1;
}

bool room_granted(const std::vector<std::string>& grants, std::string_view room) {
  for (std::string_view g : grants) {
    if (!g.empty() && g.back() == '*') {
      if (room.substr(0, g.size() - 1) == g.substr(0, g.size() - 1)) return true;
    } else if (g == room) {
      return true;
    }
  }
  return false;
}

std::string_view to_string(account_event::what kind) {
  switch (kind) {
    case account_event::what::disabled:
      return "disabled";
    case account_event::what::removed:
      return "removed";
    case account_event::what::revoked:
      return "revoked";
    case account_event::what::password:
      return "password";
  }
  return "?";
}

}  // namespace iotxmpp
