#pragma once
// Who is online: the peers bound on this node by full JID, each with the
// room of its latest report, and the devices online on the other nodes
// serving the same database as cluster_sync last read them. disco#items
// lists both (PROTOCOL.md §3.4); a second bind of one JID replaces the first
// (conflict), on this node at once and across nodes through cluster_sync.
// Thread-safe; nothing here blocks for longer than a map update.

#include <cstddef>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/base/clock.hpp"
#include "core/server/peer.hpp"

namespace iotxmpp {

// A device online now, as disco#items lists it.
struct online_device {
  std::string jid;   // full JID
  std::string room;  // of its latest report; empty before one
  std::string node;  // the node holding its session (server_config::node_id)
};

class registry {
 public:
  // `node`: this node's id, given to the devices bound here.
  explicit registry(std::string node = {}) : node_(std::move(node)) {}

  // Registers a bound peer under its full JID, in `room` (a resumed session
  // keeps its room; empty for a new one), bound now. Returns the peer that
  // held that JID before (the caller closes it with `conflict`), or null.
  std::shared_ptr<peer> bind(std::shared_ptr<peer> p, std::string room = {});
  // The peer reported for another room. Ignored unless `p` is the
  // registered peer for its JID (as unbind).
  void moved(const peer& p, std::string_view room);
  // Forgets the peer. True when `p` was the registered peer for its JID
  // (false after a newer session with the same JID replaced it, or when it
  // was never bound: that JID's state is not this peer's to change). Safe
  // to call twice.
  bool unbind(const peer& p);
  // Full JIDs of the peers bound on this node now, sorted.
  std::vector<std::string> online() const;
  // The devices online on any node, sorted by JID: this node's, then the
  // other nodes' as set_elsewhere last gave them (a JID bound here is
  // listed once, as this node's).
  std::vector<online_device> online_devices() const;
  std::size_t online_count() const;  // on this node
  // The peers bound as LOCAL@DOMAIN/any resource (an account's sessions).
  // A scan of every peer: for the rare account change, not per stanza.
  std::vector<std::shared_ptr<peer>> of_account(std::string_view local,
                                                std::string_view domain) const;

  // Across nodes (cluster_sync). The peer bound here as `full_jid` before
  // `than` (a bind of that JID on another node at `than` replaces it), or
  // null.
  std::shared_ptr<peer> bound_before(std::string_view full_jid, sys_micros than) const;
  // Replaces the devices online on the other nodes.
  void set_elsewhere(std::vector<online_device> devices);
  const std::string& node() const { return node_; }

 private:
  struct entry {
    std::shared_ptr<peer> p;
    std::string room;
    sys_micros bound_at{};
  };
  const std::string node_;
  mutable std::shared_mutex mutex_;
  // Keyed by a view of the peer's own JID text, which is fixed for its life
  // (and the entry keeps the peer alive): no copy of it per session.
  std::unordered_map<std::string_view, entry> peers_;
  std::vector<online_device> elsewhere_;
};

}  // namespace iotxmpp
