#include "core/xml/xml_lexer.hpp"

#include <algorithm>
#include <array>

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

namespace {

// Bytes that need no attention in text, in attribute values and in CDATA
// sections: the scanner skips runs of them in a tight loop.
// Also the ASCII name characters, which names are mostly made of.
enum : std::uint8_t { plain_text = 1, plain_value = 2, plain_cdata = 4, ascii_name = 8 };

constexpr std::array<std::uint8_t, 256> plain_table = [] {
  std::array<std::uint8_t, 256> t{};
  for (int b = 0x20; b < 0x80; ++b) t[b] = plain_text | plain_value | plain_cdata;
  for (int b : {'\t', '\n', '\r'}) t[b] = plain_text | plain_value | plain_cdata;
  for (int b : {'<', '&', ']', '>'}) t[b] &= ~plain_text;
  for (int b : {'<', '&', '\'', '"'}) t[b] &= ~plain_value;
  t[']'] &= ~plain_cdata;
  for (int b = 0; b < 0x80; ++b) {
    if (is_name_char(static_cast<char32_t>(b))) t[b] |= ascii_name;
  }
  return t;
}();

struct bang_keyword {
  std::string_view word;
  bool restricted;  // a comment or a DTD construct (RFC 6120 §11.1)
};

constexpr std::array<bang_keyword, 7> bang_keywords{{
    {"--", true},
    {"[CDATA[", false},
    {"DOCTYPE", true},
    {"ENTITY", true},
    {"ELEMENT", true},
    {"ATTLIST", true},
    {"NOTATION", true},
}};

constexpr bool is_digit(char32_t c) { return c >= '0' && c <= '9'; }

constexpr int hex_value(char32_t c) {
  if (c >= '0' && c <= '9') return static_cast<int>(c - '0');
  if (c >= 'a' && c <= 'f') return static_cast<int>(c - 'a' + 10);
  if (c >= 'A' && c <= 'F') return static_cast<int>(c - 'A' + 10);
  return -1;
}

}  // namespace

xml_lexer::xml_lexer(std::size_t max_markup_bytes, std::size_t max_depth)
    : max_markup_bytes_(max_markup_bytes), max_depth_(max_depth), state_(state::outside) {}

void xml_lexer::reset() {
  state_ = state::outside;
  utf8_.reset();
  at_stream_start_ = true;
  decl_allowed_ = false;
  stream_open_ = false;
  in_markup_ = false;
  markup_len_ = 0;
  depth_ = 0;
  names_.clear();
  open_.clear();
  attributes_.clear();
  condition_ = stream_condition::undefined_condition;
  message_.clear();
  too_big_ = false;
}

bool xml_lexer::between_stanzas() const {
  return state_ == state::outside && stream_open_ && !in_markup_ && !utf8_.pending() &&
         depth_ == 0 && open_.size() == 1;
}

std::string_view xml_lexer::stream_name() const {
  if (open_.empty()) return {};
  return std::string_view(names_).substr(open_.front().first, open_.front().second);
}

void xml_lexer::resume_stream(std::string_view name) {
  reset();
  at_stream_start_ = false;
  stream_open_ = true;
  names_.assign(name);
  open_.assign(1, {0, static_cast<std::uint32_t>(name.size())});
}

void xml_lexer::trim(std::size_t threshold) {
  if (in_markup_) return;
  if (names_.capacity() > threshold) names_.shrink_to_fit();
  if (attributes_.capacity() * sizeof(name_range) > threshold) {
    attributes_.clear();
    attributes_.shrink_to_fit();
  }
}

bool xml_lexer::fail(stream_condition c, std::string_view message) {
  state_ = state::failed;
  condition_ = c;
  message_ = message;
  return false;
}

xml_lexer::step xml_lexer::scan(const char* data, std::size_t size) {
  if (state_ == state::failed) return {token::error, 0, 0};
  const auto* const begin = reinterpret_cast<const unsigned char*>(data);
  const auto* const end = begin + size;
  const unsigned char* p = begin;
  const unsigned char* markup = in_markup_ ? begin : nullptr;
  // Bytes past `limit` would make the current construct too big: scanning
  // stops there, so the limit costs nothing per byte.
  const unsigned char* limit =
      in_markup_ ? begin + std::min(size, max_markup_bytes_ - markup_len_) : end;
  auto failed_at = [&] { return step{token::error, static_cast<std::size_t>(p - begin), 0}; };

  while (p < limit) {
    char32_t c = *p;
    if (c >= 0x80 || utf8_.pending()) {
      switch (utf8_.feed(*p)) {
        case utf8_decoder::result::more:
          ++p;
          continue;
        case utf8_decoder::result::invalid:
          // RFC 6120 §11.6 would also allow unsupported-encoding here; the
          // stream claims UTF-8, so bytes that are not UTF-8 are not
          // well-formed XML (XML 1.0 §4.3.3).
          fail(stream_condition::not_well_formed, "invalid UTF-8");
          return failed_at();
        case utf8_decoder::result::done:
          c = utf8_.code_point();
          if (!is_xml_char(c)) {
            fail(stream_condition::not_well_formed, "character not allowed in XML");
            return failed_at();
          }
          break;
      }
    } else if (c < 0x20 && !is_xml_space(c)) {
      fail(stream_condition::not_well_formed, "control character not allowed in XML");
      return failed_at();
    }

    token out = token::none;
    switch (state_) {
      case state::outside:
      case state::ended: {
        const bool first = at_stream_start_;
        at_stream_start_ = false;
        if (is_xml_space(c)) break;
        if (c != '<') {
          fail(stream_condition::not_well_formed, "text outside stanzas");
          return failed_at();
        }
        if (state_ == state::ended) {
          fail(stream_condition::not_well_formed, "data after the end of the stream");
          return failed_at();
        }
        in_markup_ = true;
        markup_len_ = 0;
        markup = p;
        limit = p + std::min(static_cast<std::size_t>(end - p), max_markup_bytes_);
        decl_allowed_ = first;
        state_ = state::lt;
        break;
      }
      case state::text:
        if (c == '<') {
          decl_allowed_ = false;
          state_ = state::lt;
        } else if (c == '&') {
          ref_return_ = state::text;
          state_ = state::reference;
        } else if (c == ']') {
          if (brackets_ < 2) ++brackets_;
          break;
        } else if (c == '>' && brackets_ == 2) {
          fail(stream_condition::not_well_formed, "\"]]>\" in text");
          return failed_at();
        } else {
          while (p + 1 < limit && (plain_table[p[1]] & plain_text)) ++p;
        }
        brackets_ = 0;
        break;
      case state::attr_value:
        if (c == static_cast<char32_t>(quote_)) {
          state_ = state::after_value;
        } else if (c == '<') {
          fail(stream_condition::not_well_formed, "'<' in an attribute value");
          return failed_at();
        } else if (c == '&') {
          ref_return_ = state::attr_value;
          state_ = state::reference;
        } else {
          while (p + 1 < limit && (plain_table[p[1]] & plain_value)) ++p;
        }
        break;
      case state::cdata:
        if (c == ']') {
          if (brackets_ < 2) ++brackets_;
          break;
        }
        if (c == '>' && brackets_ == 2) {
          state_ = state::text;
        } else {
          while (p + 1 < limit && (plain_table[p[1]] & plain_cdata)) ++p;
        }
        brackets_ = 0;
        break;
      case state::start_name:
      case state::attr_name:
      case state::end_name:
        if (c < 0x80 && (plain_table[c] & ascii_name)) {
          // A run of ASCII name characters at once: names are mostly ASCII.
          const unsigned char* run = p;
          while (p + 1 < limit && (plain_table[p[1]] & ascii_name)) ++p;
          const std::string_view bytes(reinterpret_cast<const char*>(run),
                                       static_cast<std::size_t>(p + 1 - run));
          if (state_ != state::end_name) {
            names_.append(bytes);
          } else if (!end_name_continues(bytes)) {
            return failed_at();
          }
          break;
        }
        if (!on_char(c, out)) return failed_at();
        break;
      default:
        if (!on_char(c, out)) return failed_at();
        break;
    }
    ++p;
    if (out != token::none) {
      in_markup_ = false;
      return {out, static_cast<std::size_t>(p - begin), static_cast<std::size_t>(markup - begin)};
    }
  }

  if (!in_markup_) return {token::none, size, size};
  if (limit < end) {
    too_big_ = true;
    fail(stream_condition::policy_violation, "stanza too big");
    return failed_at();
  }
  markup_len_ += static_cast<std::size_t>(p - markup);
  return {token::none, size, static_cast<std::size_t>(markup - begin)};
}

bool xml_lexer::on_char(char32_t c, token& out) {
  switch (state_) {
    case state::lt:
      return on_lt(c);
    case state::bang:
      return on_bang(c);
    case state::pi_target: {
      constexpr std::string_view target = "xml";
      if (c != static_cast<char32_t>(target[keyword_len_])) {
        return fail(stream_condition::restricted_xml, "processing instruction");
      }
      if (++keyword_len_ == target.size()) state_ = state::pi_after_target;
      return true;
    }
    case state::pi_after_target:
      if (is_xml_space(c)) {
        state_ = state::decl;
        return true;
      }
      if (is_name_char(c)) return fail(stream_condition::restricted_xml, "processing instruction");
      return fail(stream_condition::not_well_formed, "bad XML declaration");
    case state::decl:
      if (c == '?') state_ = state::decl_question;
      return true;
    case state::decl_question:
      if (c == '>') {
        state_ = state::outside;
        out = token::declaration;
      } else if (c != '?') {
        state_ = state::decl;
      }
      return true;
    case state::start_name:
    case state::tag_space:
    case state::attr_name:
    case state::attr_eq:
    case state::attr_value_start:
    case state::after_value:
    case state::empty_slash:
      return on_start_tag(c, out);
    case state::end_name_start:
    case state::end_name:
    case state::end_space:
      return on_end_tag(c, out);
    case state::reference:
    case state::ref_name:
    case state::ref_hash:
    case state::ref_hex:
    case state::ref_dec:
      return on_reference(c);
    default:
      return fail(stream_condition::internal_server_error, "framer in an impossible state");
  }
}

bool xml_lexer::on_lt(char32_t c) {
  if (c == '/') {
    if (!stream_open_) return fail(stream_condition::not_well_formed, "end tag before the header");
    compare_at_ = open_.back().first;
    state_ = state::end_name_start;
    return true;
  }
  if (c == '?') {
    if (!decl_allowed_) return fail(stream_condition::restricted_xml, "processing instruction");
    keyword_len_ = 0;
    state_ = state::pi_target;
    return true;
  }
  if (c == '!') {
    keyword_len_ = 0;
    state_ = state::bang;
    return true;
  }
  if (!is_name_start_char(c)) return fail(stream_condition::not_well_formed, "bad element name");
  if (stream_open_ && depth_ + 1 > max_depth_) {
    return fail(stream_condition::policy_violation, "too deep");
  }
  open_.emplace_back(static_cast<std::uint32_t>(names_.size()), 0);
  append_name(c);
  state_ = state::start_name;
  return true;
}

bool xml_lexer::on_bang(char32_t c) {
  if (c >= 0x80 || keyword_len_ == sizeof keyword_) {
    return fail(stream_condition::not_well_formed, "bad markup after \"<!\"");
  }
  keyword_[keyword_len_++] = static_cast<char>(c);
  const std::string_view seen(keyword_, keyword_len_);
  bool prefix = false;
  for (const auto& k : bang_keywords) {
    if (!k.word.starts_with(seen)) continue;
    if (k.word.size() != seen.size()) {
      prefix = true;
      continue;
    }
    if (k.restricted) {
      return fail(stream_condition::restricted_xml,
                  seen == "--" ? "comment" : "document type declaration");
    }
    if (depth_ == 0) return fail(stream_condition::not_well_formed, "CDATA outside stanzas");
    brackets_ = 0;
    state_ = state::cdata;
    return true;
  }
  return prefix || fail(stream_condition::not_well_formed, "bad markup after \"<!\"");
}

void xml_lexer::append_name(char32_t c) {
  if (c < 0x80) {
    names_.push_back(static_cast<char>(c));
  } else {
    char bytes[4];
    names_.append(bytes, encode_utf8(c, bytes));
  }
}

bool xml_lexer::on_start_tag(char32_t c, token& out) {
  auto close_range = [this](name_range& r) {
    r.second = static_cast<std::uint32_t>(names_.size() - r.first);
  };
  switch (state_) {
    case state::start_name:
      if (is_name_char(c)) {
        append_name(c);
        return true;
      }
      close_range(open_.back());
      if (is_xml_space(c)) {
        state_ = state::tag_space;
        return true;
      }
      break;
    case state::tag_space:
      if (is_xml_space(c)) return true;
      if (is_name_start_char(c)) {
        attributes_.emplace_back(static_cast<std::uint32_t>(names_.size()), 0);
        append_name(c);
        state_ = state::attr_name;
        return true;
      }
      break;
    case state::attr_name:
      if (is_name_char(c)) {
        append_name(c);
        return true;
      }
      close_range(attributes_.back());
      if (is_xml_space(c)) {
        state_ = state::attr_eq;
        return true;
      }
      if (c == '=') {
        state_ = state::attr_value_start;
        return true;
      }
      return fail(stream_condition::not_well_formed, "bad attribute name");
    case state::attr_eq:
      if (is_xml_space(c)) return true;
      if (c == '=') {
        state_ = state::attr_value_start;
        return true;
      }
      return fail(stream_condition::not_well_formed, "attribute without '='");
    case state::attr_value_start:
      if (is_xml_space(c)) return true;
      if (c == '\'' || c == '"') {
        quote_ = static_cast<char>(c);
        state_ = state::attr_value;
        return true;
      }
      return fail(stream_condition::not_well_formed, "attribute value without quotes");
    case state::after_value:
      if (is_xml_space(c)) {
        state_ = state::tag_space;
        return true;
      }
      if (c != '>' && c != '/') {
        return fail(stream_condition::not_well_formed, "attributes not separated by whitespace");
      }
      break;
    case state::empty_slash:
      if (c == '>') return tag_finished(true, out);
      return fail(stream_condition::not_well_formed, "'/' not followed by '>'");
    default:
      break;
  }
  if (c == '>') return tag_finished(false, out);
  if (c == '/') {
    state_ = state::empty_slash;
    return true;
  }
  return fail(stream_condition::not_well_formed, "bad start tag");
}

bool xml_lexer::attributes_unique() const {
  auto name = [this](const name_range& r) {
    return std::string_view(names_).substr(r.first, r.second);
  };
  const std::size_t n = attributes_.size();
  if (n <= 16) {
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t j = i + 1; j < n; ++j) {
        if (name(attributes_[i]) == name(attributes_[j])) return false;
      }
    }
    return true;
  }
  // Sorting keeps a tag with thousands of attributes from costing n².
  std::vector<std::string_view> sorted;
  sorted.reserve(n);
  for (const auto& r : attributes_) sorted.push_back(name(r));
  std::sort(sorted.begin(), sorted.end());
  return std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end();
}

bool xml_lexer::tag_finished(bool empty, token& out) {
  if (!attributes_unique()) return fail(stream_condition::not_well_formed, "duplicate attribute");
  attributes_.clear();
  names_.resize(open_.back().first + open_.back().second);
  if (!stream_open_) {
    // The stream header: its name stays at the bottom of open_ so that the
    // stream's close tag is matched like any other.
    stream_open_ = true;
    state_ = empty ? state::ended : state::outside;
    out = empty ? token::empty_header : token::header;
    return true;
  }
  if (!empty) {
    ++depth_;
    brackets_ = 0;
    state_ = state::text;
    return true;
  }
  open_.pop_back();
  names_.resize(open_.back().first + open_.back().second);
  if (depth_ == 0) {
    state_ = state::outside;
    out = token::element;
  } else {
    brackets_ = 0;
    state_ = state::text;
  }
  return true;
}

bool xml_lexer::end_name_continues(std::string_view bytes) {
  const std::size_t name_end = open_.back().first + open_.back().second;
  if (compare_at_ + bytes.size() > name_end ||
      std::string_view(names_).substr(compare_at_, bytes.size()) != bytes) {
    return fail(stream_condition::not_well_formed, "end tag does not match");
  }
  compare_at_ += bytes.size();
  return true;
}

bool xml_lexer::on_end_tag(char32_t c, token& out) {
  const std::size_t name_end = open_.back().first + open_.back().second;
  auto continues = [&] {
    char bytes[4];
    return end_name_continues({bytes, encode_utf8(c, bytes)});
  };
  switch (state_) {
    case state::end_name_start:
      if (!is_name_start_char(c)) return fail(stream_condition::not_well_formed, "bad end tag");
      if (!continues()) return false;
      state_ = state::end_name;
      return true;
    case state::end_name:
      if (is_name_char(c)) return continues();
      if (compare_at_ != name_end) {
        return fail(stream_condition::not_well_formed, "end tag does not match");
      }
      if (is_xml_space(c)) {
        state_ = state::end_space;
        return true;
      }
      break;
    case state::end_space:
      if (is_xml_space(c)) return true;
      break;
    default:
      break;
  }
  if (c != '>') return fail(stream_condition::not_well_formed, "bad end tag");
  if (depth_ == 0) {
    state_ = state::ended;
    out = token::close;
    return true;
  }
  open_.pop_back();
  names_.resize(open_.back().first + open_.back().second);
  if (--depth_ == 0) {
    state_ = state::outside;
    out = token::element;
  } else {
    brackets_ = 0;
    state_ = state::text;
  }
  return true;
}

bool xml_lexer::on_reference(char32_t c) {
  switch (state_) {
    case state::reference:
      ref_len_ = 0;
      ref_value_ = 0;
      if (c == '#') {
        state_ = state::ref_hash;
        return true;
      }
      if (!is_name_start_char(c)) return fail(stream_condition::not_well_formed, "bad reference");
      state_ = state::ref_name;
      break;  // the first name character is stored below
    case state::ref_hash:
      if (c == 'x') {
        state_ = state::ref_hex;
        return true;
      }
      if (!is_digit(c)) return fail(stream_condition::not_well_formed, "bad character reference");
      state_ = state::ref_dec;
      break;
    default:
      break;
  }
  if (state_ == state::ref_name) {
    if (c == ';') {
      const std::string_view name(ref_name_, std::min<std::uint32_t>(ref_len_, 5));
      if (ref_len_ > 4 ||
          (name != "lt" && name != "gt" && name != "amp" && name != "apos" && name != "quot")) {
        return fail(stream_condition::restricted_xml, "entity reference");
      }
      state_ = ref_return_;
      return true;
    }
    if (!is_name_char(c)) return fail(stream_condition::not_well_formed, "bad reference");
    if (ref_len_ < 4) ref_name_[ref_len_] = c < 0x80 ? static_cast<char>(c) : '\0';
    ++ref_len_;
    return true;
  }
  // A numeric character reference.
  if (c == ';' && ref_len_ > 0) {
    if (!is_xml_char(ref_value_)) {
      return fail(stream_condition::not_well_formed, "reference to a character not allowed in XML");
    }
    state_ = ref_return_;
    return true;
  }
  const int digit = state_ == state::ref_hex ? hex_value(c) : (is_digit(c) ? int(c - '0') : -1);
  if (digit < 0) return fail(stream_condition::not_well_formed, "bad character reference");
  const std::uint32_t base = state_ == state::ref_hex ? 16 : 10;
  ref_value_ =
      std::min<std::uint32_t>(ref_value_ * base + static_cast<std::uint32_t>(digit), 0x110000);
  ++ref_len_;
  return true;
}

}  // namespace iotxmpp
