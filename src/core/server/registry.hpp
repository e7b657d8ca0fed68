#pragma once
// Who is online on this node: the bound peers by full JID. disco#items lists
// them (PROTOCOL.md §3.5); a second bind of one JID replaces the first
// (conflict). Thread-safe; nothing here blocks for longer than a map update.

#include <cstddef>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/server/peer.hpp"

namespace iotxmpp {

class registry {
 public:
  // Registers a bound peer under its full JID. Returns the peer that held
  // that JID before (the caller closes it with `conflict`), or null.
  std::shared_ptr<peer> bind(std::shared_ptr<peer> p);
  // Forgets the peer. True when `p` was the registered peer for its JID
  // (false after a newer session with the same JID replaced it, or when it
  // was never bound: that JID's state is not this peer's to change). Safe
  // to call twice.
  bool unbind(const peer& p);
  // Full JIDs of the peers bound now, sorted.
  std::vector<std::string> online() const;
  std::size_t online_count() const;
  // The peers bound as LOCAL@DOMAIN/any resource (an account's sessions).
  // A scan of every peer: for the rare account change, not per stanza.
  std::vector<std::shared_ptr<peer>> of_account(std::string_view local,
                                                std::string_view domain) const;

 private:
  mutable std::shared_mutex mutex_;
  // Keyed by a view of the peer's own JID text, which is fixed for its life
  // (and the entry keeps the peer alive): no copy of it per session.
  std::unordered_map<std::string_view, std::shared_ptr<peer>> peers_;
};

}  // namespace iotxmpp
