#pragma once
// The server's metrics (core/base/metrics.hpp), in the process's registry:
// sessions, stanzas, reports, recommendations, the reaper, the feed and
// stream errors. Each is counted where it happens with one call; the
// registry renders them for `serve --metrics` (metrics_http.hpp). Made on
// first use; server::start makes them so that every series shows from the
// first scrape. Process-wide: tests that run several servers in one process
// see their sum.

#include <array>
#include <string_view>
#include <vector>

#include <pugixml.hpp>

#include "core/base/metrics.hpp"
#include "core/store/store_writer.hpp"
#include "core/xml/conditions.hpp"

namespace iotxmpp {

// How a session counts in iotxmpp_sessions{state}: connected and closed
// are not counted (a session is connected only inside session::start).
enum class session_state { negotiating, bound, closing, detached };

struct server_metric_set {
  std::array<metrics::gauge*, 4> sessions;  // by session_state
  // Bound sessions (detached ones waiting for <resume/> included):
  // [tls][account], from iotxmpp_bound_sessions{transport, login}.
  std::array<std::array<metrics::gauge*, 2>, 2> bound_sessions;
  metrics::counter& connections_accepted;
  std::array<metrics::counter*, 4> stanzas_received;  // message, presence, iq, other
  std::array<metrics::counter*, 4> stanzas_sent;      // message, presence, iq, other
  metrics::counter& reports_accepted;
  metrics::counter& reports_malformed;  // iotxmpp_reports_refused_total{reason="malformed"}
  metrics::counter& reports_forbidden;  // {reason="forbidden"}
  metrics::histogram& recommend_seconds;
  metrics::counter& reaped_devices;
  metrics::gauge& feed_subscribers;
  metrics::gauge& feed_lag_seconds;
  // Across nodes (cluster_sync): the other nodes' feed events read, the
  // sessions closed for a newer bind elsewhere, failed polls, and the other
  // nodes with a fresh heartbeat.
  metrics::counter& cluster_events;
  metrics::counter& cluster_conflicts;
  metrics::counter& cluster_poll_failures;
  metrics::gauge& cluster_live_nodes;
  std::vector<metrics::counter*> stream_errors;  // by stream_condition
};

const server_metric_set& server_metrics();

// A received stanza, by its element's local name.
void count_stanza_received(pugi::xml_node stanza);
// A stanza the server sends, serialized (`<iq ...`), by its first element's
// local name.
void count_stanza_sent(std::string_view bytes);
// A stanza sent, by its element's local name.
void count_stanza_sent_named(std::string_view local_name);
void count_stream_error(stream_condition c);

// The cross-node feed's lag, in seconds: at each read of the other nodes'
// feed, the age of the oldest event it found (accepted there, read here);
// 0 when it found none. Set by cluster_sync; 0 on a single node.
void set_feed_lag_seconds(double seconds);

// Registers the gauges read from `writer` at each scrape (queue depth and
// capacity, whether the database is up); they go when the handles do.
std::vector<metrics::callback_handle> watch_writer(const store_writer& writer,
                                                   std::size_t queue_capacity);

}  // namespace iotxmpp
