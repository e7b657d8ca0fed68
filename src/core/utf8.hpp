#pragma once
// UTF-8 decoding as RFC 3629 defines it: no overlong forms, no surrogates,
// nothing above U+10FFFF. Used to validate JIDs and to keep outgoing XML
// well-formed whatever bytes a peer sent.

#include <cstddef>
#include <string_view>

namespace iotxmpp::utf8 {

// One decoded character: its code point and how many bytes it took.
// `length` is 0 when the bytes at the position are not valid UTF-8.
struct decoded {
  char32_t code_point = 0;
  std::size_t length = 0;
};

// Decodes the character starting at `text[pos]`; `pos` must be < text.size().
decoded decode(std::string_view text, std::size_t pos);

// True when the whole of `text` is valid UTF-8.
bool valid(std::string_view text);

// The U+FFFD replacement character, encoded.
inline constexpr std::string_view replacement = "\xEF\xBF\xBD";

}  // namespace iotxmpp::utf8
