#include "support/framer_events.hpp"

#include <sstream>

namespace iotxmpp::test {

std::string status_report(std::uint64_t seqnr) {
  const std::string n = std::to_string(seqnr);
  return "<message to='iot.local' id='s-" + n +
         "'><fields xmlns='urn:xmpp:iot:sensordata' seqnr='" + n +
         "' done='true'><node nodeId='kitchen'><timestamp value='2026-11-24T08:00:00+01:00'>"
         "<numeric name='temperature' value='21.5' unit='\u00b0C' momentary='true'/>"
         "<numeric name='humidity' value='40.2' unit='%' momentary='true'/>"
         "<numeric name='brightness' value='310' unit='lx' momentary='true'/>"
         "</timestamp></node></fields></message>";
}

namespace {

std::string describe(const stream_framer& framer, stream_framer::status what) {
  using status = stream_framer::status;
  switch (what) {
    case status::stream_open: {
      std::string s = "open " + framer.header().name;
      for (const auto& [name, value] : framer.header().attributes) s += " " + name + "=" + value;
      return s;
    }
    case status::element: {
      std::ostringstream xml;
      framer.element().print(xml, "", pugi::format_raw, pugi::encoding_utf8);
      return "element " + std::to_string(framer.element_size()) + " " + xml.str();
    }
    case status::stream_close:
      return "close";
    case status::error:
      return "error " + std::string(to_string(framer.error_condition())) + ": " +
             std::string(framer.error_text());
    case status::need_more:
      break;
  }
  return "need_more";
}

}  // namespace

events frame_chunks(stream_framer& framer, const std::vector<std::string_view>& chunks) {
  using status = stream_framer::status;
  events out;
  const std::size_t capacity_bound = framer.limits().max_stanza_bytes + 1;
  for (std::string_view chunk : chunks) {
    // Two events without progress in a row is possible only once (an empty
    // header's open then close); more would be a framer that spins.
    int idle = 0;
    for (;;) {
      const auto o = framer.feed(chunk);
      if (o.consumed > chunk.size()) {
        out.push_back("BROKEN consumed past the input");
        return out;
      }
      if (framer.buffered_capacity() > capacity_bound && framer.buffered_capacity() > 512) {
        out.push_back("BROKEN buffered capacity " + std::to_string(framer.buffered_capacity()));
        return out;
      }
      chunk.remove_prefix(o.consumed);
      idle = o.consumed == 0 ? idle + 1 : 0;
      if (o.what == status::need_more) {
        if (!chunk.empty()) out.push_back("BROKEN need_more with input left");
        // As a session does after each read: an idle stream parks its
        // state, and the next feed must go on exactly where it stopped.
        framer.trim();
        break;
      }
      out.push_back(describe(framer, o.what));
      if (o.what == status::error) {
        const auto again = framer.feed("<a/>");
        if (again.what != status::error || again.consumed != 0) {
          out.push_back("BROKEN error is not sticky");
        }
        return out;
      }
      if (idle > 2) {
        out.push_back("BROKEN no progress");
        return out;
      }
    }
  }
  return out;
}

events frame_cut(std::string_view stream, const std::vector<std::size_t>& cuts,
                 framer_limits limits) {
  std::vector<std::string_view> chunks;
  std::size_t from = 0;
  for (std::size_t cut : cuts) {
    chunks.push_back(stream.substr(from, cut - from));
    from = cut;
  }
  chunks.push_back(stream.substr(from));
  stream_framer framer(limits);
  return frame_chunks(framer, chunks);
}

events frame_whole(std::string_view stream, framer_limits limits) {
  return frame_cut(stream, {}, limits);
}

events frame_bytewise(std::string_view stream, framer_limits limits) {
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < stream.size(); ++i) cuts.push_back(i);
  return frame_cut(stream, cuts, limits);
}

std::string last_event(std::string_view stream, framer_limits limits) {
  const events e = frame_whole(stream, limits);
  return e.empty() ? "none" : e.back();
}

}  // namespace iotxmpp::test
