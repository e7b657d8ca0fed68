#pragma once
// The resumable well-formedness scanner under stream_framer: it walks an XMPP
// stream (RFC 6120 §4, restricted XML of §11) one byte at a time, keeps every
// bit of state between calls, and says where each top-level construct (the XML
// declaration, the stream header, a stanza, the stream's close tag) begins and
// ends. It checks everything the stream must satisfy except what needs the
// construct's text as a whole (the declaration's fields, the header's
// namespaces): those are the framer's. It owns no input bytes.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/base/utf8.hpp"
#include "core/xml/conditions.hpp"

namespace iotxmpp {

class xml_lexer {
 public:
  enum class token : std::uint8_t {
    none,          // the input was used up inside or between constructs
    declaration,   // a leading <?xml ...?> ended
    header,        // the stream's open tag ended with '>'
    empty_header,  // the stream's open tag ended with '/>': the stream is over
    element,       // a top-level element ended
    close,         // the stream's close tag ended
    error,         // see condition() and message()
  };

  struct step {
    token what;
    std::size_t used;          // bytes of the input scanned (up to and including a token's last)
    std::size_t markup_begin;  // [markup_begin, used) belongs to the current construct
  };

  // `max_markup_bytes` bounds a top-level construct; `max_depth` bounds the
  // nesting of elements inside the stream (a stanza is depth 1).
  xml_lexer(std::size_t max_markup_bytes, std::size_t max_depth);

  // Scans `data`, stopping right after the first token other than `none`, or
  // at the end of `data`. After `error` every call returns `error` with
  // used == 0 until reset().
  step scan(const char* data, std::size_t size);

  // Back to the start of a stream (a declaration is allowed again).
  void reset();
  // This lexer reads a restarted stream (after STARTTLS or SASL).
  void mark_restarted() { restarted_ = true; }

  // Releases scratch memory above `threshold` bytes when no construct is
  // open (the scratch is needed again only by the next construct).
  void trim(std::size_t threshold);

  // Inside a top-level construct: its bytes so far are part of it.
  bool in_markup() const { return in_markup_; }

  // Between two top-level constructs of an open stream, with nothing
  // pending: the whole state is then the stream element's name, and a lexer
  // made by resume_stream(name) continues exactly like this one.
  bool between_stanzas() const;
  std::string_view stream_name() const;
  // A lexer at the state between_stanzas() describes (after reset()).
  void resume_stream(std::string_view name);

  // After `error`.
  stream_condition condition() const { return condition_; }
  std::string_view message() const { return message_; }
  bool too_big() const { return too_big_; }

  enum class state : std::uint8_t;  // defined in xml_lexer_state.hpp

 private:
  using name_range = std::pair<std::uint32_t, std::uint32_t>;  // offset, length in names_

  // The steps of scan(), in the order a byte meets them.
  struct cursor;  // defined in the .cpp
  enum class decoded : std::uint8_t { ready, more, failed };
  decoded decode_multibyte(unsigned char byte, char32_t& c);
  bool on_scanned_char(char32_t c, cursor& at, token& out);
  bool open_construct(char32_t c, cursor& at);
  bool on_text(char32_t c, cursor& at);
  bool on_attribute_value(char32_t c, cursor& at);
  void on_cdata(char32_t c, cursor& at);
  bool on_name_run(cursor& at);
  step end_of_input(const cursor& at);
  step failed_at(const cursor& at) const;

  bool on_char(char32_t c, token& out);
  bool on_lt(char32_t c);
  bool on_bang(char32_t c);
  bool on_start_tag(char32_t c, token& out);
  bool on_end_tag(char32_t c, token& out);
  bool end_name_continues(std::string_view bytes);
  bool on_reference(char32_t c);
  bool tag_finished(bool empty, token& out);
  bool attributes_unique() const;
  void append_name(char32_t c);
  bool fail(stream_condition c, std::string_view message);

  std::size_t max_markup_bytes_;
  std::size_t max_depth_;

  state state_;
  utf8_decoder utf8_;
  bool at_stream_start_ = true;  // no byte of the stream seen yet
  bool restarted_ = false;       // a restarted stream: leading whitespace is allowed
  bool decl_allowed_ = false;    // the current '<' was the stream's first byte
  bool stream_open_ = false;
  bool in_markup_ = false;
  std::size_t markup_len_ = 0;  // bytes of the current construct before this scan
  std::size_t depth_ = 0;       // open elements inside the stream element

  // Names of the open elements (the stream's at index 0), then the attribute
  // names of the start tag being read, all as UTF-8 bytes.
  std::string names_;
  std::vector<name_range> open_;
  std::vector<name_range> attributes_;
  std::size_t compare_at_ = 0;  // next byte of names_ an end tag must match

  char quote_ = 0;             // delimiter of the attribute value being read
  std::uint8_t brackets_ = 0;  // consecutive ']' just seen (for "]]>")
  char keyword_[9] = {};       // what follows "<!" so far
  std::uint8_t keyword_len_ = 0;
  state ref_return_{};     // where a reference returns to
  char ref_name_[5] = {};  // entity name so far (longer ones are never predefined)
  std::uint32_t ref_len_ = 0;
  std::uint32_t ref_value_ = 0;  // numeric reference so far, saturated above 0x10FFFF

  stream_condition condition_ = stream_condition::undefined_condition;
  std::string message_;
  bool too_big_ = false;
};

}  // namespace iotxmpp
