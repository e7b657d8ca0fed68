#pragma once
// Base64 (RFC 4648 §4, with padding) as SASL uses it on the wire
// (RFC 6120 §6.4.2), over OpenSSL's EVP_EncodeBlock / EVP_DecodeBlock.

#include <optional>
#include <string>
#include <string_view>

namespace iotxmpp {

std::string base64_encode(std::string_view bytes);

// The decoded bytes, or nullopt when `text` is not canonical base64: a length
// that is not a multiple of 4, a character outside the alphabet, whitespace,
// or padding anywhere but at the end. "=" alone is the empty string
// (RFC 6120 §6.4.2); the empty text is too.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace iotxmpp
