#include "core/base/utf8.hpp"

namespace iotxmpp {

utf8_decoder::result utf8_decoder::feed(unsigned char byte) {
  if (needed_ == 0) {
    low_ = 0x80;
    high_ = 0xBF;
    if (byte < 0x80) {
      code_point_ = byte;
      return result::done;
    }
    // 0x80..0xC1 are continuation bytes or overlong two-byte leads;
    // 0xF5..0xFF would encode values above U+10FFFF.
    if (byte < 0xC2 || byte > 0xF4) return result::invalid;
    if (byte < 0xE0) {
      needed_ = 1;
      code_point_ = byte & 0x1F;
    } else if (byte < 0xF0) {
      needed_ = 2;
      code_point_ = byte & 0x0F;
      if (byte == 0xE0) low_ = 0xA0;   // below: overlong
      if (byte == 0xED) high_ = 0x9F;  // above: surrogates
    } else {
      needed_ = 3;
      code_point_ = byte & 0x07;
      if (byte == 0xF0) low_ = 0x90;   // below: overlong
      if (byte == 0xF4) high_ = 0x8F;  // above: beyond U+10FFFF
    }
    return result::more;
  }
  if (byte < low_ || byte > high_) return result::invalid;
  low_ = 0x80;
  high_ = 0xBF;
  code_point_ = (code_point_ << 6) | (byte & 0x3F);
  return --needed_ == 0 ? result::done : result::more;
}

std::size_t encode_utf8(char32_t cp, char* out) {
  if (cp < 0x80) {
    out[0] = static_cast<char>(cp);
    return 1;
  }
  if (cp < 0x800) {
    out[0] = static_cast<char>(0xC0 | (cp >> 6));
    out[1] = static_cast<char>(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = static_cast<char>(0xE0 | (cp >> 12));
    out[1] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out[2] = static_cast<char>(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = static_cast<char>(0xF0 | (cp >> 18));
  out[1] = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
  out[2] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
  out[3] = static_cast<char>(0x80 | (cp & 0x3F));
  return 4;
}

namespace utf8 {

decoded decode(std::string_view text, std::size_t pos) {
  utf8_decoder decoder;
  for (std::size_t i = pos; i < text.size(); ++i) {
    switch (decoder.feed(static_cast<unsigned char>(text[i]))) {
      case utf8_decoder::result::done:
        return {decoder.code_point(), i - pos + 1};
      case utf8_decoder::result::invalid:
        return {};
      case utf8_decoder::result::more:
        break;
    }
  }
  return {};  // cut short
}

bool valid(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    if (static_cast<unsigned char>(text[i]) < 0x80) {
      ++i;
      continue;
    }
    const auto step = decode(text, i);
    if (step.length == 0) return false;
    i += step.length;
  }
  return true;
}

}  // namespace utf8
}  // namespace iotxmpp
