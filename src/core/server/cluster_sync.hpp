#pragma once
// Several `serve` nodes over one database, without a broker
// (docs/scaling.md). On its own thread and store connection, each node
//   - records a heartbeat in `nodes` (heartbeat_every) and learns which
//     other nodes live;
//   - reads the other nodes' feed events above the number it has seen of
//     each (store.hpp: a node numbers its events in commit order, so reading
//     `> N` misses nothing), every feed_poll, in batches of a bounded size:
//     reports and presences go to this node's feed subscribers, in each
//     node's own order; a bind closes this node's older session of the same
//     full JID with `conflict`;
//   - reads the devices online on the other live nodes for disco#items
//     (online_poll);
//   - prunes presence and bind events older than feed_retention.
// It keeps one number per other node, nothing per event. A failing store
// is retried on the next poll with a new connection; a gap longer than the
// retention is skipped (those events are too old to deliver).

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/base/error.hpp"
#include "core/server/feed.hpp"
#include "core/server/registry.hpp"
#include "core/server/server_config.hpp"
#include "core/store/store.hpp"

namespace iotxmpp {

// --node-id as given, or the host name when empty. Fails (usage) on a name
// the cluster could not store or log plainly: 1-64 of A-Z a-z 0-9 . _ -
result<std::string> node_id_or_host_name(std::string id);

struct cluster_stats {
  std::uint64_t events = 0;     // other nodes' events read
  std::uint64_t delivered = 0;  // reports and presences handed to subscribers
  std::uint64_t conflicts = 0;  // sessions closed for a newer bind elsewhere
  std::uint64_t polls_failed = 0;
  // The last event handed on: when it reached this node less when its node
  // took it (wall clocks of two hosts: skew shows here).
  std::chrono::microseconds lag{0};
  std::size_t live_nodes = 0;  // other nodes with a fresh heartbeat, at the last look
};

class cluster_sync {
 public:
  using connector = std::function<result<std::unique_ptr<store>>()>;

  // On `db` (migrated), records this node's first heartbeat and where each
  // node's feed stands now (their older events are not delivered), then
  // starts the thread, which opens new connections with `connect` after a
  // failure. The config (node_id filled in), registry and feed must outlive
  // this object. Fails when the store does.
  static result<std::unique_ptr<cluster_sync>> start(std::unique_ptr<store> db, connector connect,
                                                     const server_config& config, registry& online,
                                                     feed& followers);
  ~cluster_sync();  // stop()
  cluster_sync(const cluster_sync&) = delete;
  cluster_sync& operator=(const cluster_sync&) = delete;

  // Ends the thread (after the poll under way). Idempotent.
  void stop();
  cluster_stats stats() const;

 private:
  struct impl;
  explicit cluster_sync(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace iotxmpp
