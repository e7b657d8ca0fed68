// xml_lexer's start and end tags: element and attribute names, unique
// attributes, nesting depth, and the end tag matching its start tag.

#include <algorithm>

#include "core/xml/xml_lexer.hpp"
#include "core/xml/xml_lexer_state.hpp"

namespace iotxmpp {

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

}  // namespace iotxmpp
