#pragma once
// The state every session of one server shares, without any networking:
// who is online (by full JID), who follows the live feed, the latest report
// of each room, the recommendation rules and the store writer. Thread-safe.

#include <chrono>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <pugixml.hpp>

#include "core/model/model.hpp"
#include "core/server/peer.hpp"
#include "core/iot/rules.hpp"
#include "core/server/server_config.hpp"
#include "core/store/store.hpp"
#include "core/store/store_writer.hpp"

namespace iotxmpp {

class hub {
 public:
  // `reader` answers room look-ups the in-memory cache cannot (rooms last
  // reported before this server started, or through another node); it may be
  // null, then unknown rooms are unknown. `writer` must outlive the hub.
  // `reopen`, when given, replaces a reader whose connection was lost (at
  // most one attempt every few seconds, so an outage costs look-ups little).
  using store_factory = std::function<result<std::unique_ptr<store>>()>;
  hub(server_config config, rules rules, store_writer& writer, std::unique_ptr<store> reader,
      store_factory reopen = {});

  const server_config& config() const { return config_; }
  const rules& recommendation_rules() const { return rules_; }
  store_writer& writer() { return writer_; }

  // Registers a bound peer under its full JID. Returns the peer that held
  // that JID before (it must be closed with `conflict`), or null.
  std::shared_ptr<peer> bind(std::shared_ptr<peer> p);
  // Forgets the peer (its JID, its feed subscription). Safe to call twice.
  // True when `p` was the registered peer for its JID (false after a newer
  // session with the same JID replaced it: that JID is still online).
  bool unbind(const peer& p);
  // Full JIDs of the peers bound now, sorted.
  std::vector<std::string> online() const;
  std::size_t online_count() const;
  // Calls f on every bound peer (under the registry lock: f must not call
  // back into the hub's registry).
  void for_each_peer(const std::function<void(peer&)>& f) const;

  // Live feed (PROTOCOL.md §3.4). Subscribing again replaces the filter; an
  // empty room means every room.
  void subscribe(const std::shared_ptr<peer>& p, std::string room);
  void unsubscribe(const peer& p);
  // Forwards `stanza` as accepted from `from` to every subscriber whose
  // filter matches `room`, with `to` set to the subscriber.
  void publish(std::string_view room, pugi::xml_node stanza, std::string_view from);

  // Remembers the room's latest report (by its own timestamp).
  void remember(const status_report& report);
  // The room's latest report: the cache, else the store. nullopt when the
  // room has never reported.
  std::optional<status_report> latest(std::string_view room);

 private:
  struct subscription {
    std::weak_ptr<peer> target;
    std::string room;
  };

  server_config config_;
  rules rules_;
  store_writer& writer_;

  mutable std::shared_mutex registry_mutex_;
  // Keyed by a view of the peer's own JID text, which is fixed for its life
  // (and the entry keeps the peer alive): no copy of it per session.
  std::unordered_map<std::string_view, std::shared_ptr<peer>> peers_;

  mutable std::shared_mutex feed_mutex_;
  std::unordered_map<const peer*, subscription> subscribers_;

  // Latest report per room, least recently updated evicted first.
  std::mutex rooms_mutex_;
  std::list<std::string> room_order_;
  struct room_entry {
    status_report report;
    std::list<std::string>::iterator order;
  };
  std::unordered_map<std::string, room_entry> rooms_;
  std::unique_ptr<store> reader_;  // guarded by rooms_mutex_
  store_factory reopen_;
  std::chrono::steady_clock::time_point next_reopen_{};  // guarded by rooms_mutex_
};

}  // namespace iotxmpp
