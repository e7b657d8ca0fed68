#include "core/stream_framer.hpp"

#include <algorithm>
#include <optional>

namespace iotxmpp {
namespace {

constexpr std::string_view streams_namespace = "http://etherx.jabber.org/streams";
constexpr std::string_view client_namespace = "jabber:client";

// Capacity kept for the next element; a larger one is released once its
// element is done, so that idle sessions hold little memory.
constexpr std::size_t keep_capacity = 8 * 1024;
constexpr std::size_t min_capacity = 512;

pugi::xml_parse_result parse_in_place(pugi::xml_document& doc, std::vector<char>& bytes) {
  // parse_default: entity references, CDATA, end-of-line and attribute-value
  // normalisation as XML prescribes; comments, PIs and DOCTYPE never reach
  // pugixml (the lexer refused them).
  return doc.load_buffer_inplace(bytes.data(), bytes.size(), pugi::parse_default,
                                 pugi::encoding_utf8);
}

struct problem {
  stream_condition condition;
  std::string_view text;
};

bool iequals(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
    return lower(x) == lower(y);
  });
}

// Checks `<?xml` VersionInfo EncodingDecl? SDDecl? S? `?>` (XML 1.0 §2.8).
// The lexer has already checked the characters and the "<?xml" + space start.
std::optional<problem> check_declaration(std::string_view decl) {
  constexpr problem malformed{stream_condition::not_well_formed, "bad XML declaration"};
  std::string_view rest = decl.substr(5, decl.size() - 7);
  auto skip_space = [&rest] {
    const std::size_t n = rest.find_first_not_of(" \t\r\n");
    const bool any = n != 0;
    rest.remove_prefix(n == std::string_view::npos ? rest.size() : n);
    return any;
  };
  constexpr std::string_view order[] = {"version", "encoding", "standalone"};
  std::size_t next = 0;
  while (true) {
    const bool spaced = skip_space();
    if (rest.empty()) break;
    if (!spaced) return malformed;
    const std::size_t name_end = rest.find_first_of(" \t\r\n=");
    if (name_end == std::string_view::npos) return malformed;
    const std::string_view name = rest.substr(0, name_end);
    while (next < 3 && order[next] != name) {
      if (next == 0) return malformed;  // version is required and first
      ++next;
    }
    if (next == 3) return malformed;
    rest.remove_prefix(name_end);
    skip_space();
    if (rest.empty() || rest[0] != '=') return malformed;
    rest.remove_prefix(1);
    skip_space();
    if (rest.empty() || (rest[0] != '\'' && rest[0] != '"')) return malformed;
    const std::size_t close = rest.find(rest[0], 1);
    if (close == std::string_view::npos) return malformed;
    const std::string_view value = rest.substr(1, close - 1);
    rest.remove_prefix(close + 1);
    if (next == 0) {
      if (value.size() < 3 || !value.starts_with("1.") ||
          value.find_first_not_of("0123456789", 2) != std::string_view::npos) {
        return malformed;
      }
    } else if (next == 1) {
      if (value.empty() ||
          value.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrs"
                                  "tuvwxyz0123456789._-") != std::string_view::npos) {
        return malformed;
      }
      if (!iequals(value, "UTF-8")) {
        return problem{stream_condition::unsupported_encoding, "encoding other than UTF-8"};
      }
    } else if (value != "yes" && value != "no") {
      return malformed;
    }
    ++next;
  }
  if (next == 0) return malformed;
  return std::nullopt;
}

}  // namespace

std::string_view stream_header::attribute(std::string_view name) const {
  for (const auto& [key, value] : attributes) {
    if (key == name) return value;
  }
  return {};
}

stream_framer::stream_framer(framer_limits limits)
    : limits_(limits), lexer_(limits.max_stanza_bytes, limits.max_depth) {}

void stream_framer::reset() {
  lexer_.reset();
  buffer_.clear();
  release();
  header_ = {};
  element_size_ = 0;
  close_pending_ = false;
  failed_ = false;
  condition_ = stream_condition::undefined_condition;
  error_text_.clear();
  too_big_ = false;
}

stream_framer::outcome stream_framer::fail(stream_condition c, std::string_view text,
                                           std::size_t consumed) {
  failed_ = true;
  condition_ = c;
  error_text_ = text;
  return {status::error, consumed};
}

void stream_framer::release() {
  buffer_.clear();
  if (buffer_.capacity() > keep_capacity) std::vector<char>().swap(buffer_);
  lexer_.trim(keep_capacity);
  if (doc_used_) {
    doc_->reset();  // frees the element's tree; element() was valid until this feed
    doc_used_ = false;
    element_ = {};
  }
}

void stream_framer::trim() {
  if (lexer_.in_markup() || close_pending_) return;
  release();
  doc_.reset();
  std::vector<char>().swap(buffer_);
  lexer_.trim(0);
  header_.attributes = {};
}

void stream_framer::append(const char* data, std::size_t size) {
  if (size == 0) return;
  const std::size_t needed = buffer_.size() + size;
  if (needed > buffer_.capacity()) {
    // Grow geometrically but never past the limit: std::vector's own growth
    // could double a 40 KiB buffer to 80 KiB for a 64 KiB limit.
    const std::size_t cap = limits_.max_stanza_bytes + 1;
    const std::size_t grown = std::min(std::max(2 * buffer_.capacity(), min_capacity), cap);
    buffer_.reserve(std::max(needed, grown));
  }
  buffer_.insert(buffer_.end(), data, data + size);
}

bool stream_framer::parse_buffer() {
  if (!doc_) doc_ = std::make_unique<pugi::xml_document>();
  doc_used_ = true;
  return static_cast<bool>(parse_in_place(*doc_, buffer_));
}

bool stream_framer::open_header(bool empty) {
  if (!empty) {
    // The stream's open tag alone is not a document; closing it as an empty
    // element lets pugixml decode its attributes.
    buffer_.back() = '/';
    if (buffer_.size() == buffer_.capacity()) buffer_.reserve(buffer_.size() + 1);
    buffer_.push_back('>');
  }
  if (!parse_buffer()) return false;
  const pugi::xml_node root = doc_->document_element();
  header_.name = root.name();
  header_.attributes.clear();
  for (const pugi::xml_attribute a : root.attributes()) {
    header_.attributes.emplace_back(a.name(), a.value());
  }
  release();
  return true;
}

stream_framer::outcome stream_framer::feed(std::string_view input) {
  using token = xml_lexer::token;
  if (failed_) return {status::error, 0};
  if (close_pending_) {
    close_pending_ = false;
    return {status::stream_close, 0};
  }
  if (!lexer_.in_markup()) release();
  std::size_t pos = 0;
  for (;;) {
    const auto step = lexer_.scan(input.data() + pos, input.size() - pos);
    if (step.what == token::error) {
      too_big_ = lexer_.too_big();
      return fail(lexer_.condition(), lexer_.message(), pos + step.used);
    }
    append(input.data() + pos + step.markup_begin, step.used - step.markup_begin);
    pos += step.used;
    switch (step.what) {
      case token::none:
        return {status::need_more, pos};
      case token::declaration:
        if (auto p = check_declaration({buffer_.data(), buffer_.size()})) {
          return fail(p->condition, p->text, pos);
        }
        buffer_.clear();
        continue;
      case token::header:
      case token::empty_header: {
        if (!open_header(step.what == token::empty_header)) {
          return fail(stream_condition::not_well_formed, "XML the parser refused", pos);
        }
        // RFC 6120 §4.9.3.10: a first element that is not the stream header,
        // or a header in the wrong namespace, is invalid-namespace.
        const std::string_view name = header_.name;
        const std::size_t colon = name.find(':');
        const std::string_view local =
            colon == std::string_view::npos ? name : name.substr(colon + 1);
        const std::string ns_attribute = colon == std::string_view::npos
                                             ? "xmlns"
                                             : "xmlns:" + std::string(name.substr(0, colon));
        if (local != "stream" || header_.attribute(ns_attribute) != streams_namespace ||
            header_.attribute("xmlns") != client_namespace) {
          return fail(stream_condition::invalid_namespace, "not an XMPP client stream header", pos);
        }
        close_pending_ = step.what == token::empty_header;
        return {status::stream_open, pos};
      }
      case token::element:
        if (!parse_buffer()) {
          return fail(stream_condition::not_well_formed, "XML the parser refused", pos);
        }
        element_ = doc_->document_element();
        element_size_ = buffer_.size();
        return {status::element, pos};
      case token::close:
        return {status::stream_close, pos};
      case token::error:
        break;
    }
  }
}

}  // namespace iotxmpp
