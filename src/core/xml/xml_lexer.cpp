#include "core/xml/xml_lexer.hpp"

#include <algorithm>
#include <array>

#include "core/xml/xml_lexer_state.hpp"

namespace iotxmpp {

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

// Where one scan() stands in its input; the steps below move it.
struct xml_lexer::cursor {
  const unsigned char* begin;  // the input
  const unsigned char* end;
  const unsigned char* p;       // the byte being looked at
  const unsigned char* markup;  // where the current construct began in the input, or null
  // Bytes past `limit` would make the current construct too big: scanning
  // stops there, so the limit costs nothing per byte.
  const unsigned char* limit;

  std::size_t offset(const unsigned char* q) const { return static_cast<std::size_t>(q - begin); }
};

namespace {

// The last byte of the run that starts at `p` and whose following bytes
// `mask` says need no attention, stopping before `limit`. The hot loop: most
// bytes of a stanza are skipped here, a table lookup each.
[[gnu::always_inline]] inline const unsigned char* skip_plain(const unsigned char* p,
                                                              const unsigned char* limit,
                                                              std::uint8_t mask) {
  while (p + 1 < limit && (plain_table[p[1]] & mask)) ++p;
  return p;
}

}  // namespace

xml_lexer::step xml_lexer::scan(const char* data, std::size_t size) {
  if (state_ == state::failed) return {token::error, 0, 0};
  const auto* const begin = reinterpret_cast<const unsigned char*>(data);
  cursor at{begin, begin + size, begin, in_markup_ ? begin : nullptr,
            in_markup_ ? begin + std::min(size, max_markup_bytes_ - markup_len_) : begin + size};
  while (at.p < at.limit) {
    char32_t c = *at.p;
    if (c >= 0x80 || utf8_.pending()) {
      const decoded d = decode_multibyte(*at.p, c);
      if (d == decoded::more) {
        ++at.p;
        continue;
      }
      if (d == decoded::failed) return failed_at(at);
    } else if (c < 0x20 && !is_xml_space(c)) {
      fail(stream_condition::not_well_formed, "control character not allowed in XML");
      return failed_at(at);
    }
    token out = token::none;
    if (!on_scanned_char(c, at, out)) return failed_at(at);
    ++at.p;
    if (out != token::none) {
      in_markup_ = false;
      return {out, at.offset(at.p), at.offset(at.markup)};
    }
  }
  return end_of_input(at);
}

// Kept inline, as every step is: a cursor whose address escaped the loop
// would live in memory instead of registers (about 6% more instructions).
[[gnu::always_inline]] inline xml_lexer::step xml_lexer::failed_at(const cursor& at) const {
  return {token::error, at.offset(at.p), 0};
}

// A byte of a multibyte UTF-8 sequence: `more` until the sequence is
// complete, then `ready` with `c` the character, or `failed` (after fail()).
[[gnu::always_inline]] inline xml_lexer::decoded xml_lexer::decode_multibyte(unsigned char byte,
                                                                             char32_t& c) {
  switch (utf8_.feed(byte)) {
    case utf8_decoder::result::more:
      return decoded::more;
    case utf8_decoder::result::invalid:
      // RFC 6120 §11.6 would also allow unsupported-encoding here; the
      // stream claims UTF-8, so bytes that are not UTF-8 are not
      // well-formed XML (XML 1.0 §4.3.3).
      fail(stream_condition::not_well_formed, "invalid UTF-8");
      return decoded::failed;
    case utf8_decoder::result::done:
      c = utf8_.code_point();
      if (!is_xml_char(c)) {
        fail(stream_condition::not_well_formed, "character not allowed in XML");
        return decoded::failed;
      }
      return decoded::ready;
  }
  return decoded::failed;
}

// The states where most bytes are spent (text, attribute values, CDATA,
// names) take runs of plain bytes at once; every other state goes to on_char.
[[gnu::always_inline]] inline bool xml_lexer::on_scanned_char(char32_t c, cursor& at, token& out) {
  switch (state_) {
    case state::outside:
    case state::ended:
      return open_construct(c, at);
    case state::text:
      return on_text(c, at);
    case state::attr_value:
      return on_attribute_value(c, at);
    case state::cdata:
      on_cdata(c, at);
      return true;
    case state::start_name:
    case state::attr_name:
    case state::end_name:
      if (c < 0x80 && (plain_table[c] & ascii_name)) return on_name_run(at);
      return on_char(c, out);
    default:
      return on_char(c, out);
  }
}

// Between constructs: whitespace, or the '<' that opens the next one.
[[gnu::always_inline]] inline bool xml_lexer::open_construct(char32_t c, cursor& at) {
  const bool first = at_stream_start_;
  // After a stream restart, whitespace before the new stream's first
  // construct does not count: a client's newline after its last element of
  // the old stream may precede its XML declaration (go-sendxmpp sends
  // "\n<?xml ...?>"). At the start of a connection it does (XML 1.0 §2.8).
  if (is_xml_space(c)) {
    if (!restarted_) at_stream_start_ = false;
    return true;
  }
  at_stream_start_ = false;
  if (c != '<') return fail(stream_condition::not_well_formed, "text outside stanzas");
  if (state_ == state::ended) {
    return fail(stream_condition::not_well_formed, "data after the end of the stream");
  }
  in_markup_ = true;
  markup_len_ = 0;
  at.markup = at.p;
  at.limit = at.p + std::min(static_cast<std::size_t>(at.end - at.p), max_markup_bytes_);
  decl_allowed_ = first;
  state_ = state::lt;
  return true;
}

[[gnu::always_inline]] inline bool xml_lexer::on_text(char32_t c, cursor& at) {
  if (c == '<') {
    decl_allowed_ = false;
    state_ = state::lt;
  } else if (c == '&') {
    ref_return_ = state::text;
    state_ = state::reference;
  } else if (c == ']') {
    if (brackets_ < 2) ++brackets_;
    return true;
  } else if (c == '>' && brackets_ == 2) {
    return fail(stream_condition::not_well_formed, "\"]]>\" in text");
  } else {
    at.p = skip_plain(at.p, at.limit, plain_text);
  }
  brackets_ = 0;
  return true;
}

[[gnu::always_inline]] inline bool xml_lexer::on_attribute_value(char32_t c, cursor& at) {
  if (c == static_cast<char32_t>(quote_)) {
    state_ = state::after_value;
  } else if (c == '<') {
    return fail(stream_condition::not_well_formed, "'<' in an attribute value");
  } else if (c == '&') {
    ref_return_ = state::attr_value;
    state_ = state::reference;
  } else {
    at.p = skip_plain(at.p, at.limit, plain_value);
  }
  return true;
}

[[gnu::always_inline]] inline void xml_lexer::on_cdata(char32_t c, cursor& at) {
  if (c == ']') {
    if (brackets_ < 2) ++brackets_;
    return;
  }
  if (c == '>' && brackets_ == 2) {
    state_ = state::text;
  } else {
    at.p = skip_plain(at.p, at.limit, plain_cdata);
  }
  brackets_ = 0;
}

// A run of ASCII name characters at once: names are mostly ASCII.
[[gnu::always_inline]] inline bool xml_lexer::on_name_run(cursor& at) {
  const unsigned char* run = at.p;
  at.p = skip_plain(at.p, at.limit, ascii_name);
  const std::string_view bytes(reinterpret_cast<const char*>(run),
                               static_cast<std::size_t>(at.p + 1 - run));
  if (state_ != state::end_name) {
    names_.append(bytes);
    return true;
  }
  return end_name_continues(bytes);
}

// The input is used up: between constructs, inside one (remember how much
// of it we have), or at the size limit of one.
[[gnu::always_inline]] inline xml_lexer::step xml_lexer::end_of_input(const cursor& at) {
  const std::size_t size = at.offset(at.end);
  if (!in_markup_) return {token::none, size, size};
  if (at.limit < at.end) {
    too_big_ = true;
    fail(stream_condition::policy_violation, "stanza too big");
    return failed_at(at);
  }
  markup_len_ += static_cast<std::size_t>(at.p - at.markup);
  return {token::none, size, at.offset(at.markup)};
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
