#pragma once
// The one XML escaper: every byte of text or of an attribute value that the
// code writes by hand or through xml_element goes through append_escaped, so
// what reaches the wire is always well-formed XML 1.0, whatever the input.
//
// The guarantee, for any input bytes:
//  - & < > ' " become &amp; &lt; &gt; &apos; &quot;
//  - CR becomes &#13; (a literal one would be read back as LF); TAB and LF
//    become &#9; and &#10; in an attribute value (attribute-value
//    normalization would turn them into spaces) and are copied in text.
//  - Every other C0 control character (U+0000 to U+001F) is dropped: XML 1.0
//    cannot carry them at all, not even as character references.
//  - Each byte that starts no well-formed UTF-8 sequence (a stray
//    continuation byte, the lead of a truncated or overlong sequence or of a
//    surrogate) becomes one U+FFFD REPLACEMENT CHARACTER, and so do U+FFFE
//    and U+FFFF (not XML characters).
//  - Everything else, DEL and the C1 controls included (XML 1.0 allows
//    them), is copied unchanged.

#include <string>
#include <string_view>

namespace iotxmpp {

// Where the escaped bytes go: they differ only in TAB and LF (see above).
enum class xml_context : unsigned char { text, attribute };

// Appends `text` to `out`, escaped for `where` as described above.
void append_escaped(std::string& out, std::string_view text, xml_context where);

// Appends `text` escaped as for an attribute value, which is also safe as
// character data.
inline void append_escaped(std::string& out, std::string_view text) {
  append_escaped(out, text, xml_context::attribute);
}

}  // namespace iotxmpp
