#include "core/xml/xml_escape.hpp"

#include <array>

#include "core/base/utf8.hpp"

namespace iotxmpp {
namespace {

// What the writer does with each byte value. `copy` is by far the most common,
// so the hot loop only tests for it and leaves runs of such bytes to one append.
enum class byte_class : unsigned char { copy, escape, drop, multibyte };

constexpr std::array<byte_class, 256> byte_classes = [] {
  std::array<byte_class, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[c] = byte_class::drop;
  for (int c = 0x80; c < 0x100; ++c) t[c] = byte_class::multibyte;
  for (unsigned char c : {'&', '<', '>', '\'', '"', '\t', '\n', '\r'}) t[c] = byte_class::escape;
  return t;
}();

// The replacement of an `escape` byte; "" means "copy it as is".
std::string_view escape_of(char c, xml_context where) {
  switch (c) {
    case '&':
      return "&amp;";
    case '<':
      return "&lt;";
    case '>':
      return "&gt;";
    case '\'':
      return "&apos;";
    case '"':
      return "&quot;";
    case '\r':
      return "&#13;";
    case '\t':
      return where == xml_context::attribute ? "&#9;" : "";
    case '\n':
      return where == xml_context::attribute ? "&#10;" : "";
    default:
      return "";
  }
}

}  // namespace

void append_escaped(std::string& out, std::string_view s, xml_context where) {
  std::size_t run = 0;  // start of the bytes not yet appended
  std::size_t i = 0;
  const auto flush = [&] { out.append(s.data() + run, i - run); };
  while (i < s.size()) {
    const char c = s[i];
    switch (byte_classes[static_cast<unsigned char>(c)]) {
      case byte_class::copy:
        ++i;
        break;
      case byte_class::escape:
        if (const auto e = escape_of(c, where); !e.empty()) {
          flush();
          out.append(e);
          run = ++i;
        } else {
          ++i;
        }
        break;
      case byte_class::drop:
        flush();
        run = ++i;
        break;
      case byte_class::multibyte: {
        const auto d = utf8::decode(s, i);
        if (d.length != 0 && d.code_point != 0xFFFE && d.code_point != 0xFFFF) {
          i += d.length;
        } else {
          flush();
          out.append(utf8::replacement);
          i += d.length != 0 ? d.length : 1;
          run = i;
        }
        break;
      }
    }
  }
  flush();
}

}  // namespace iotxmpp
