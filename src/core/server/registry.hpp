#pragma once
// Who is online on this node: the bound peers by full JID, each with the
// room of its latest report. disco#items lists them (PROTOCOL.md §3.4); a
// second bind of one JID replaces the first (conflict). Thread-safe; nothing
// here blocks for longer than a map update.

#include <cstddef>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/server/peer.hpp"

namespace iotxmpp {

// A device online now, as disco#items lists it.
struct online_device {
  std::string jid;   // full JID
  std::string room;  // of its latest report; empty before one
};

class registry {
 public:
  // Registers a bound peer under its full JID, in `room` (a resumed session
  // keeps its room; empty for a new one). Returns the peer that held that
  // JID before (the caller closes it with `conflict`), or null.
  std::shared_ptr<peer> bind(std::shared_ptr<peer> p, std::string room = {});
  // The peer reported for another room. Ignored unless `p` is the
  // registered peer for its JID (as unbind).
  void moved(const peer& p, std::string_view room);
  // Forgets the peer. True when `p` was the registered peer for its JID
  // (false after a newer session with the same JID replaced it, or when it
  // was never bound: that JID's state is not this peer's to change). Safe
  // to call twice.
  bool unbind(const peer& p);
  // Full JIDs of the peers bound now, sorted.
  std::vector<std::string> online() const;
  // The same, each with its room.
  std::vector<online_device> online_devices() const;
  std::size_t online_count() const;
  // The peers bound as LOCAL@DOMAIN/any resource (an account's sessions).
  // A scan of every peer: for the rare account change, not per stanza.
  std::vector<std::shared_ptr<peer>> of_account(std::string_view local,
                                                std::string_view domain) const;

 private:
  mutable std::shared_mutex mutex_;
  struct entry {
    std::shared_ptr<peer> p;
    std::string room;
  };
  // Keyed by a view of the peer's own JID text, which is fixed for its life
  // (and the entry keeps the peer alive): no copy of it per session.
  std::unordered_map<std::string_view, entry> peers_;
};

}  // namespace iotxmpp
