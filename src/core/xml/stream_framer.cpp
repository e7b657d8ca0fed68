#include "core/xml/stream_framer.hpp"

#include <algorithm>
#include <limits>
#include <optional>

#include "core/xml/xml_lexer.hpp"

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

struct stream_framer::state {
  explicit state(const framer_limits& limits) : lexer(limits.max_stanza_bytes, limits.max_depth) {}

  xml_lexer lexer;
  std::vector<char> buffer;                 // the current top-level construct as received
  std::unique_ptr<pugi::xml_document> doc;  // made on first parse, freed by trim()
  bool doc_used = false;
  pugi::xml_node element;
  std::size_t element_size = 0;
  stream_header header;
  bool close_pending = false;  // the header was an empty element: the stream ends next
  bool failed = false;
  stream_condition condition = stream_condition::undefined_condition;
  std::string error_text;
  bool too_big = false;
};

stream_framer::stream_framer(framer_limits limits)
    : max_stanza_bytes_(static_cast<std::uint32_t>(std::min<std::size_t>(
          limits.max_stanza_bytes, std::numeric_limits<std::uint32_t>::max() - 1))),
      max_depth_(static_cast<std::uint32_t>(
          std::min<std::size_t>(limits.max_depth, std::numeric_limits<std::uint32_t>::max()))) {
  s_ = std::make_unique<state>(this->limits());
}
stream_framer::~stream_framer() = default;
stream_framer::stream_framer(stream_framer&&) noexcept = default;
stream_framer& stream_framer::operator=(stream_framer&&) noexcept = default;

stream_framer::state& stream_framer::live() {
  if (!s_) {
    // Parked: always inside an open stream (the state exists from the start).
    s_ = std::make_unique<state>(limits());
    s_->lexer.resume_stream(parked_name_ ? std::string_view(*parked_name_) : usual_stream_name);
    parked_name_.reset();
  }
  return *s_;
}

const stream_header& stream_framer::header() const {
  static const stream_header none;
  return s_ ? s_->header : none;
}
pugi::xml_node stream_framer::element() const { return s_ ? s_->element : pugi::xml_node(); }
std::size_t stream_framer::element_size() const { return s_ ? s_->element_size : 0; }
stream_condition stream_framer::error_condition() const {
  return s_ ? s_->condition : stream_condition::undefined_condition;
}
std::string_view stream_framer::error_text() const {
  return s_ ? std::string_view(s_->error_text) : std::string_view();
}
bool stream_framer::too_big() const { return s_ && s_->too_big; }
std::size_t stream_framer::buffered_capacity() const { return s_ ? s_->buffer.capacity() : 0; }

void stream_framer::reset() {
  // A fresh state, rather than clearing the old one: what the last stream
  // made large (buffer, tree) goes with it.
  s_ = std::make_unique<state>(limits());
  parked_name_.reset();
  s_->lexer.mark_restarted();
}

stream_framer::outcome stream_framer::fail(stream_condition c, std::string_view text,
                                           std::size_t consumed) {
  s_->failed = true;
  s_->condition = c;
  s_->error_text = text;
  return {status::error, consumed};
}

void stream_framer::release() {
  s_->buffer.clear();
  if (s_->buffer.capacity() > keep_capacity) std::vector<char>().swap(s_->buffer);
  s_->lexer.trim(keep_capacity);
  if (s_->doc_used) {
    s_->doc->reset();  // frees the element's tree; element() was valid until this feed
    s_->doc_used = false;
    s_->element = {};
  }
}

void stream_framer::trim() {
  if (!s_ || s_->lexer.in_markup() || s_->close_pending) return;
  if (!s_->failed && s_->lexer.between_stanzas()) {
    const std::string_view name = s_->lexer.stream_name();
    if (name != usual_stream_name) parked_name_ = std::make_unique<std::string>(name);
    s_.reset();
    return;
  }
  release();
  s_->doc.reset();
  std::vector<char>().swap(s_->buffer);
  s_->lexer.trim(0);
  s_->header.attributes = {};
}

void stream_framer::append(const char* data, std::size_t size) {
  if (size == 0) return;
  const std::size_t needed = s_->buffer.size() + size;
  if (needed > s_->buffer.capacity()) {
    // Grow geometrically but never past the limit: std::vector's own growth
    // could double a 40 KiB buffer to 80 KiB for a 64 KiB limit.
    const std::size_t cap = max_stanza_bytes_ + 1;
    const std::size_t grown = std::min(std::max(2 * s_->buffer.capacity(), min_capacity), cap);
    s_->buffer.reserve(std::max(needed, grown));
  }
  s_->buffer.insert(s_->buffer.end(), data, data + size);
}

bool stream_framer::parse_buffer() {
  if (!s_->doc) s_->doc = std::make_unique<pugi::xml_document>();
  s_->doc_used = true;
  return static_cast<bool>(parse_in_place(*s_->doc, s_->buffer));
}

bool stream_framer::open_header(bool empty) {
  if (!empty) {
    // The stream's open tag alone is not a document; closing it as an empty
    // element lets pugixml decode its attributes.
    s_->buffer.back() = '/';
    if (s_->buffer.size() == s_->buffer.capacity()) s_->buffer.reserve(s_->buffer.size() + 1);
    s_->buffer.push_back('>');
  }
  if (!parse_buffer()) return false;
  const pugi::xml_node root = s_->doc->document_element();
  s_->header.name = root.name();
  s_->header.attributes.clear();
  for (const pugi::xml_attribute a : root.attributes()) {
    s_->header.attributes.emplace_back(a.name(), a.value());
  }
  release();
  return true;
}

stream_framer::outcome stream_framer::feed(std::string_view input) {
  using token = xml_lexer::token;
  live();
  if (s_->failed) return {status::error, 0};
  if (s_->close_pending) {
    s_->close_pending = false;
    return {status::stream_close, 0};
  }
  if (!s_->lexer.in_markup()) release();
  std::size_t pos = 0;
  for (;;) {
    const auto step = s_->lexer.scan(input.data() + pos, input.size() - pos);
    if (step.what == token::error) {
      s_->too_big = s_->lexer.too_big();
      return fail(s_->lexer.condition(), s_->lexer.message(), pos + step.used);
    }
    append(input.data() + pos + step.markup_begin, step.used - step.markup_begin);
    pos += step.used;
    switch (step.what) {
      case token::none:
        return {status::need_more, pos};
      case token::declaration:
        if (auto p = check_declaration({s_->buffer.data(), s_->buffer.size()})) {
          return fail(p->condition, p->text, pos);
        }
        s_->buffer.clear();
        continue;
      case token::header:
      case token::empty_header: {
        if (!open_header(step.what == token::empty_header)) {
          return fail(stream_condition::not_well_formed, "XML the parser refused", pos);
        }
        // RFC 6120 §4.9.3.10: a first element that is not the stream header,
        // or a header in the wrong namespace, is invalid-namespace.
        const std::string_view name = s_->header.name;
        const std::size_t colon = name.find(':');
        const std::string_view local =
            colon == std::string_view::npos ? name : name.substr(colon + 1);
        const std::string ns_attribute = colon == std::string_view::npos
                                             ? "xmlns"
                                             : "xmlns:" + std::string(name.substr(0, colon));
        if (local != "stream" || s_->header.attribute(ns_attribute) != streams_namespace ||
            s_->header.attribute("xmlns") != client_namespace) {
          return fail(stream_condition::invalid_namespace, "not an XMPP client stream header", pos);
        }
        s_->close_pending = step.what == token::empty_header;
        return {status::stream_open, pos};
      }
      case token::element:
        if (!parse_buffer()) {
          return fail(stream_condition::not_well_formed, "XML the parser refused", pos);
        }
        s_->element = s_->doc->document_element();
        s_->element_size = s_->buffer.size();
        return {status::element, pos};
      case token::close:
        return {status::stream_close, pos};
      case token::error:
        break;
    }
  }
}

}  // namespace iotxmpp
