#pragma once
// The live feed (PROTOCOL.md §3.4): who follows which room, and delivery of
// accepted stanzas to them: this node's at once (publish), the other nodes'
// as cluster_sync reads them from the store (publish_made). Thread-safe.
// Delivery never blocks the publisher: peer::deliver queues, and drops a
// subscriber that cannot keep up (policy-violation) rather than slowing the
// devices.

#include <atomic>
#include <functional>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include <pugixml.hpp>

#include "core/server/peer.hpp"

namespace iotxmpp {

class feed {
 public:
  // Subscribing again replaces the filter; an empty room means every room.
  void subscribe(const std::shared_ptr<peer>& p, std::string room);
  // Safe for a peer that never subscribed.
  void unsubscribe(const peer& p);
  // Forwards `stanza` as accepted from `from` to every subscriber whose
  // filter matches `room`, with `to` set to the subscriber. Costs one
  // atomic load when nobody follows the feed.
  void publish(std::string_view room, pugi::xml_node stanza, std::string_view from);
  // The same for a stanza that is not parsed XML (another node's event,
  // read from the store): make(to) returns its bytes for the subscriber
  // `to`, called once per matching subscriber.
  void publish_made(std::string_view room,
                    const std::function<std::string(std::string_view to)>& make);
  // Whether anyone follows the feed now (one atomic load).
  bool followed() const { return count_.load() != 0; }

 private:
  struct subscription {
    std::weak_ptr<peer> target;
    std::string room;
  };
  std::atomic<std::size_t> count_{0};
  mutable std::shared_mutex mutex_;
  std::unordered_map<const peer*, subscription> subscribers_;
};

}  // namespace iotxmpp
