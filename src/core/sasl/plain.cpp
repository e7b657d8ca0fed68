#include "core/sasl/plain.hpp"

#include "core/base/utf8.hpp"

namespace iotxmpp {
namespace {

constexpr std::size_t max_field = 255;

bool good_field(std::string_view field) { return field.size() <= max_field && utf8::valid(field); }

}  // namespace

std::optional<plain_message> parse_plain(std::string_view message) {
  const std::size_t first = message.find('\0');
  if (first == std::string_view::npos) return std::nullopt;
  const std::size_t second = message.find('\0', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  if (message.find('\0', second + 1) != std::string_view::npos) return std::nullopt;

  const std::string_view authzid = message.substr(0, first);
  const std::string_view authcid = message.substr(first + 1, second - first - 1);
  const std::string_view password = message.substr(second + 1);
  if (authcid.empty() || password.empty()) return std::nullopt;
  if (!good_field(authzid) || !good_field(authcid) || !good_field(password)) return std::nullopt;
  return plain_message{std::string(authzid), std::string(authcid), std::string(password)};
}

std::string make_plain(std::string_view authcid, std::string_view password) {
  std::string out(1, '\0');
  out += authcid;
  out += '\0';
  out += password;
  return out;
}

}  // namespace iotxmpp
