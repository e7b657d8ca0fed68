#pragma once
// XEP-0198 stream management on one bound session (PROTOCOL.md §3.5), as
// counts and answers with no I/O: <enable/>, <r/> and <a h/> in both
// directions. The session carries the answers out; the one rule that makes
// this stream management ours: the <a/> that answers <r/> goes out only once
// every write the session queued before the <r/> is committed (it is held by
// the commit tracker like a ping's answer), so the h it carries counts a
// status report as handled only once its row is stored.
//
// Counts are 32-bit and wrap (XEP-0198 §4). With resumption (an id given
// at <enable resume='true'/>), the stanzas sent and not yet acknowledged
// are kept (bounded by the session: max_outgoing_bytes) so a resumed stream
// can have them again.
// Memory: made on <enable/>; about 100 bytes plus the unacknowledged
// stanzas of a resumable stream.

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <pugixml.hpp>

#include "core/xml/conditions.hpp"

namespace iotxmpp {

class stream_management {
 public:
  struct answer {
    std::string send;                       // for the client now
    std::string after_commit;               // once every write queued so far is committed
    std::optional<stream_condition> fatal;  // end the stream
    std::string fatal_text;
    // XEP-0198 §4: the client acknowledged more than was sent.
    std::optional<std::uint32_t> too_high_h;
  };

  // An element of urn:xmpp:sm:3 after bind. `resume_id`: the id this
  // stream gets when the client asks for resumption (empty: not offered),
  // `max_seconds` the window announced with it.
  answer on_element(pugi::xml_node element, std::string_view resume_id = {},
                    std::uint32_t max_seconds = 0);

  bool enabled() const { return enabled_; }
  // A stanza from the client was handled (its writes queued).
  void received() {
    if (enabled_) ++in_;
  }
  // `n` stanzas went to the client. True when the server should ask for an
  // acknowledgement now (one request at a time, after every `ask_every`
  // unacknowledged stanzas).
  // A resumable stream keeps `bytes` (the n stanzas) until acknowledged.
  bool sent(std::string_view bytes, std::uint32_t n = 1);

  bool resumable() const { return !id_.empty(); }
  const std::string& id() const { return id_; }
  std::size_t queued_bytes() const { return queued_bytes_; }
  // <resume h/>: the client handled `h` of our stanzas. The bytes to send
  // again (the stanzas after h), or nullopt when h is more than was sent.
  // Afterwards the counts go on from h plus what is resent.
  std::optional<std::string> resume_from(std::uint32_t h);

  std::uint32_t handled_in() const { return in_; }
  std::uint32_t sent_out() const { return out_; }
  std::uint32_t acked_out() const { return acked_; }

  static constexpr std::uint32_t ask_every = 10;
  // "<r xmlns='urn:xmpp:sm:3'/>".
  static std::string request();
  // <handled-count-too-high/> for a stream error's application condition.
  std::string too_high_text(std::uint32_t h) const;

 private:
  void drop_acknowledged();

  bool enabled_ = false;
  bool asked_ = false;  // an <r/> of ours awaits its <a/>
  std::string id_;      // resumption id; empty: not resumable
  // Unacknowledged stanzas of a resumable stream: (bytes, stanzas in them),
  // the first starting after stanza number queue_base_.
  // Made for the first stanza kept and freed once all are acknowledged:
  // an empty std::deque holds about 600 bytes.
  std::unique_ptr<std::deque<std::pair<std::string, std::uint32_t>>> queue_;
  std::uint32_t queue_base_ = 0;
  std::size_t queued_bytes_ = 0;
  std::uint32_t in_ = 0;     // stanzas from the client handled since <enable/>
  std::uint32_t out_ = 0;    // stanzas to the client since <enable/>
  std::uint32_t acked_ = 0;  // of those, acknowledged by the client
};

}  // namespace iotxmpp
