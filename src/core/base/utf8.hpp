#pragma once
// Incremental UTF-8 decoding and the XML 1.0 character classes, for scanners
// that see their input a byte at a time and may be interrupted between any
// two bytes of a sequence.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace iotxmpp {

// Decodes one code point at a time from bytes fed one by one. Accepts exactly
// the well-formed sequences of Unicode §3.9 table 3-7: overlong forms,
// surrogates (U+D800..U+DFFF), values above U+10FFFF and a lead byte followed
// by a non-continuation byte are invalid. The state survives between feeds, so
// a sequence may be split anywhere.
class utf8_decoder {
 public:
  enum class result : std::uint8_t { done, more, invalid };

  // Takes the next byte. `done`: code_point() holds a complete code point;
  // `more`: the sequence needs further bytes; `invalid`: the byte cannot
  // continue (or start) a well-formed sequence. After `invalid` the decoder is
  // left mid-sequence; call reset() before reusing it.
  result feed(unsigned char byte);

  // The code point completed by the last feed that returned `done`.
  char32_t code_point() const { return code_point_; }

  // True while a multi-byte sequence has started but not finished.
  bool pending() const { return needed_ != 0; }

  void reset() { *this = utf8_decoder{}; }

 private:
  char32_t code_point_ = 0;
  std::uint8_t needed_ = 0;  // continuation bytes still expected
  std::uint8_t low_ = 0x80;  // allowed range of the next continuation byte
  std::uint8_t high_ = 0xBF;
};

// Writes the UTF-8 form of `cp` (a Unicode scalar value) to `out`, which has
// room for 4 bytes; returns how many bytes were written (1 to 4).
std::size_t encode_utf8(char32_t cp, char* out);

// XML 1.0 (5th edition) production Char: what may appear in a document at all.
constexpr bool is_xml_char(char32_t c) {
  if (c < 0x20) return c == 0x9 || c == 0xA || c == 0xD;
  if (c < 0xD800) return true;
  if (c < 0xE000) return false;
  if (c < 0x10000) return c != 0xFFFE && c != 0xFFFF;
  return c <= 0x10FFFF;
}

constexpr bool is_xml_space(char32_t c) { return c == 0x20 || c == 0x9 || c == 0xA || c == 0xD; }

// XML 1.0 (5th edition) NameStartChar.
constexpr bool is_name_start_char(char32_t c) {
  if (c < 0x80) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
  }
  return (c >= 0xC0 && c <= 0xD6) || (c >= 0xD8 && c <= 0xF6) || (c >= 0xF8 && c <= 0x2FF) ||
         (c >= 0x370 && c <= 0x37D) || (c >= 0x37F && c <= 0x1FFF) ||
         (c >= 0x200C && c <= 0x200D) || (c >= 0x2070 && c <= 0x218F) ||
         (c >= 0x2C00 && c <= 0x2FEF) || (c >= 0x3001 && c <= 0xD7FF) ||
         (c >= 0xF900 && c <= 0xFDCF) || (c >= 0xFDF0 && c <= 0xFFFD) ||
         (c >= 0x10000 && c <= 0xEFFFF);
}

// XML 1.0 (5th edition) NameChar.
constexpr bool is_name_char(char32_t c) {
  if (is_name_start_char(c)) return true;
  if (c < 0x80) return (c >= '0' && c <= '9') || c == '-' || c == '.';
  return c == 0xB7 || (c >= 0x300 && c <= 0x36F) || (c >= 0x203F && c <= 0x2040);
}

namespace utf8 {

// One decoded character of a complete buffer: its code point and how many
// bytes it took. `length` is 0 when the bytes at the position are not valid
// UTF-8 (including a sequence cut short by the end of the buffer).
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

}  // namespace utf8
}  // namespace iotxmpp
