#pragma once
// The incremental XML stream framer: bytes of an XMPP stream in (split at any
// byte, or many stanzas per read), events out: the stream header, each
// complete top-level element parsed with pugixml, the stream's end, or a
// stream error with its RFC 6120 condition. No I/O. Memory is bounded by the
// limits: an unfinished element is kept inside, never more than
// max_stanza_bytes of it.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <pugixml.hpp>

#include "core/xml/conditions.hpp"
#include "core/xml/framer_limits.hpp"

namespace iotxmpp {

// The stream header the peer opened with (its <stream:stream ...> open tag).
struct stream_header {
  std::string name;                                             // qualified name as sent
  std::vector<std::pair<std::string, std::string>> attributes;  // as sent, entities decoded
  // The value of the first attribute called `name`; "" when absent.
  std::string_view attribute(std::string_view name) const;
};

// Not thread-safe; one framer per stream direction.
class stream_framer {
 public:
  enum class status { need_more, stream_open, element, stream_close, error };
  struct outcome {
    status what;
    std::size_t consumed;  // bytes of the input used; the caller drops them
  };

  explicit stream_framer(framer_limits limits = {});
  ~stream_framer();
  stream_framer(stream_framer&&) noexcept;
  stream_framer& operator=(stream_framer&&) noexcept;

  // Scans `input`, stopping right after the first complete event (or when the
  // input is used up: need_more with consumed == input.size()). Bytes of an
  // unfinished element are kept inside (bounded by max_stanza_bytes) so the
  // caller never re-feeds them. Whitespace between elements and the leading
  // XML declaration are consumed without an event. Once `error` is returned,
  // every later feed returns error with consumed 0 until reset().
  outcome feed(std::string_view input);

  // After stream_open: the header as sent. Its namespaces are checked (stream
  // namespace and jabber:client); `to` and `version` are the caller's to check.
  const stream_header& header() const;

  // After element: the parsed top-level element, valid until the next feed or
  // reset, and its raw size in bytes as received.
  pugi::xml_node element() const;
  std::size_t element_size() const;

  // After error: the RFC 6120 stream-error condition and a short text for a
  // human. too_big(): the error is a top-level element over max_stanza_bytes
  // (policy_violation; XEP-0205 <stanza-too-big/> applies).
  stream_condition error_condition() const;
  std::string_view error_text() const;
  bool too_big() const;

  // Expect a new stream header (after SASL success or STARTTLS): forgets all
  // state, including an error.
  void reset();

  // Bytes currently reserved for an unfinished element (for memory checks):
  // never more than max_stanza_bytes + 1.
  std::size_t buffered_capacity() const;

  framer_limits limits() const { return {max_stanza_bytes_, max_depth_}; }

  // Frees everything held between elements when no element is in progress:
  // the last element's tree, the header's attributes and the buffer. Between
  // two stanzas of an open stream it frees the whole working state too and
  // keeps only the stream element's name, so an idle stream costs the framer
  // object alone (~60 bytes); the next feed rebuilds the state. element() and
  // header() are invalid afterwards; the stream itself (open, its name) is
  // kept.
  void trim();

  // True while the working state is freed (for memory checks).
  bool parked() const { return !s_; }

  // The name of the stream element in the usual form.
  static constexpr std::string_view usual_stream_name = "stream:stream";

 private:
  struct state;  // everything a stream in progress needs (stream_framer.cpp)

  state& live();  // the working state, rebuilt after trim() when needed
  outcome fail(stream_condition c, std::string_view text, std::size_t consumed);
  void append(const char* data, std::size_t size);
  void release();
  bool parse_buffer();
  bool open_header(bool empty);

  // The limits, narrowed (both fit 32 bits; server_config checks them).
  std::uint32_t max_stanza_bytes_;
  std::uint32_t max_depth_;
  std::unique_ptr<state> s_;  // null while parked (always inside an open stream)
  // While parked: the open stream element's name, null for the usual
  // "stream:stream" (so a parked framer allocates nothing).
  std::unique_ptr<std::string> parked_name_;
};

}  // namespace iotxmpp
