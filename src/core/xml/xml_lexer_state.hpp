#pragma once
// The states of xml_lexer, shared by its two source files (xml_lexer.cpp:
// the scan loop, declarations, CDATA and references; xml_lexer_tags.cpp: start
// and end tags). Private to the lexer: include it from nowhere else.

#include <cstdint>

#include "core/xml/xml_lexer.hpp"

namespace iotxmpp {

enum class xml_lexer::state : std::uint8_t {
  outside,  // at stream level, between constructs
  ended,    // after the stream's close tag (or an empty header)
  failed,
  lt,               // after '<'
  bang,             // after "<!", reading its keyword
  pi_target,        // after "<?" as the stream's first bytes: expecting "xml"
  pi_after_target,  // after "<?xml"
  decl,             // inside the XML declaration
  decl_question,    // after '?' inside the declaration
  start_name,       // element name of a start tag
  tag_space,        // whitespace inside a start tag
  attr_name,
  attr_eq,           // after an attribute name and whitespace
  attr_value_start,  // after '='
  attr_value,
  after_value,     // after an attribute value's closing quote
  empty_slash,     // after '/' in a start tag
  end_name_start,  // after "</"
  end_name,
  end_space,  // after an end tag's name
  text,
  cdata,
  reference,  // after '&'
  ref_name,
  ref_hash,  // after "&#"
  ref_hex,
  ref_dec,
};

}  // namespace iotxmpp
