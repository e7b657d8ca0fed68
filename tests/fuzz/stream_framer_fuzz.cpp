// libFuzzer target for the stream framer: arbitrary bytes, fed in pieces
// whose sizes the input itself chooses, must never crash, never hold more
// than the stanza limit, and give the same events as one whole feed.
//
//   CC=clang CXX=clang++ cmake -S . -B build-fuzz -DIOTXMPP_FUZZ=ON
//   cmake --build build-fuzz --target stream_framer_fuzz
//   build-fuzz/tests/fuzz/stream_framer_fuzz -max_total_time=60 tests/fuzz/corpus

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "core/xml/stream_framer.hpp"

namespace {

using iotxmpp::framer_limits;
using iotxmpp::stream_framer;

// One line per event: what the framer said, and the element as it parsed it.
std::vector<std::string> events(std::string_view data, std::size_t piece) {
  stream_framer framer(framer_limits{1024, 8});
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at < data.size()) {
    std::string_view read = data.substr(at, piece);
    at += read.size();
    while (!read.empty()) {
      const auto o = framer.feed(read);
      if (framer.buffered_capacity() > framer.limits().max_stanza_bytes + 1) std::abort();
      read.remove_prefix(o.consumed);
      switch (o.what) {
        case stream_framer::status::need_more:
          break;
        case stream_framer::status::stream_open:
          out.push_back("open " + framer.header().name);
          break;
        case stream_framer::status::element:
          out.push_back("element " + std::string(framer.element().name()) + " " +
                        std::to_string(framer.element_size()));
          break;
        case stream_framer::status::stream_close:
          out.push_back("close");
          break;
        case stream_framer::status::error:
          out.push_back("error " + std::string(to_string(framer.error_condition())));
          return out;
      }
      if (o.consumed == 0 && o.what == stream_framer::status::need_more) std::abort();
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t piece = 1 + bytes[0] % 17;
  const std::string_view data(reinterpret_cast<const char*>(bytes) + 1, size - 1);
  if (events(data, piece) != events(data, data.size() + 1)) std::abort();
  return 0;
}
