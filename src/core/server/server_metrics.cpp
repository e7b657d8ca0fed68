#include "core/server/server_metrics.hpp"

#include "core/base/version.hpp"
#include "core/store/store_metrics.hpp"

namespace iotxmpp {
namespace {

constexpr std::array<std::string_view, 4> stanza_kinds{"message", "presence", "iq", "other"};

std::size_t stanza_kind_index(std::string_view name) {
  if (auto colon = name.find(':'); colon != std::string_view::npos) name.remove_prefix(colon + 1);
  for (std::size_t i = 0; i + 1 < stanza_kinds.size(); ++i)
    if (name == stanza_kinds[i]) return i;
  return stanza_kinds.size() - 1;
}

server_metric_set make() {
  auto& r = metrics::global();
  // Everything that the server counts, made here once.
  server_metric_set m{
      .sessions = {},
      .bound_sessions = {},
      .connections_accepted = r.add_counter("iotxmpp_connections_accepted_total",
                                            "TCP connections accepted on the XMPP listeners"),
      .stanzas_received = {},
      .stanzas_sent = {},
      .reports_accepted =
          r.add_counter("iotxmpp_reports_accepted_total",
                        "Status reports (XEP-0323) accepted from devices and queued for the store"),
      .reports_malformed = r.add_counter("iotxmpp_reports_refused_total", reports_refused_help,
                                         {{"reason", "malformed"}}),
      .reports_forbidden = r.add_counter("iotxmpp_reports_refused_total", reports_refused_help,
                                         {{"reason", "forbidden"}}),
      .recommend_seconds = r.add_histogram(
          "iotxmpp_recommend_seconds",
          "Time from a recommend request's handling to its answer (a room not in the cache "
          "includes its read from the store)",
          metrics::latency_buckets()),
      .reaped_devices = r.add_counter("iotxmpp_reaped_devices_total",
                                      "Stale devices this node's reaper removed from the store"),
      .feed_subscribers =
          r.add_gauge("iotxmpp_feed_subscribers", "Sessions following the live feed"),
      .feed_lag_seconds = r.add_gauge(
          "iotxmpp_feed_lag_seconds",
          "At the last read of the other nodes' feed, the age in seconds of the oldest event "
          "it found: accepted on another node, read by this one (0 when none was new, and "
          "on a single node)"),
      .cluster_events = r.add_counter(
          "iotxmpp_cluster_feed_events_total",
          "Feed events (reports, presences, binds) of the other nodes read by this node"),
      .cluster_conflicts =
          r.add_counter("iotxmpp_cluster_conflicts_total",
                        "Sessions on this node closed with conflict for a newer bind of the same "
                        "full JID on another node"),
      .cluster_poll_failures =
          r.add_counter("iotxmpp_cluster_poll_failures_total",
                        "Reads of the other nodes' feed, heartbeats or online devices that failed "
                        "(retried with a new connection)"),
      .cluster_live_nodes =
          r.add_gauge("iotxmpp_cluster_live_nodes",
                      "Other nodes serving the same database whose heartbeat is fresh"),
      .stream_errors = {},
  };
  static constexpr std::array<std::string_view, 4> states{"negotiating", "bound", "closing",
                                                          "detached"};
  for (std::size_t i = 0; i < states.size(); ++i)
    m.sessions[i] = &r.add_gauge(
        "iotxmpp_sessions",
        "Live client sessions by state: negotiating (before bind), bound, closing (after a "
        "stream error or end), detached (XEP-0198, waiting for <resume/>)",
        {{"state", std::string(states[i])}});
  for (int tls = 0; tls < 2; ++tls)
    for (int account = 0; account < 2; ++account)
      m.bound_sessions[tls][account] = &r.add_gauge(
          "iotxmpp_bound_sessions",
          "Bound sessions (detached ones included) by transport (plain or tls) and "
          "login (anonymous or account)",
          {{"transport", tls ? "tls" : "plain"}, {"login", account ? "account" : "anonymous"}});
  for (std::size_t i = 0; i < stanza_kinds.size(); ++i) {
    m.stanzas_received[i] =
        &r.add_counter("iotxmpp_stanzas_received_total",
                       "Stanzas received from bound clients, by kind (message, presence, iq, "
                       "other)",
                       {{"kind", std::string(stanza_kinds[i])}});
    m.stanzas_sent[i] =
        &r.add_counter("iotxmpp_stanzas_sent_total",
                       "Stanzas sent to bound clients (replies and the live feed), by kind",
                       {{"kind", std::string(stanza_kinds[i])}});
  }
  for (int c = 0; c <= static_cast<int>(stream_condition::unsupported_version); ++c)
    m.stream_errors.push_back(&r.add_counter(
        "iotxmpp_stream_errors_total", "Stream errors sent to clients, by RFC 6120 condition",
        {{"condition", std::string(to_string(static_cast<stream_condition>(c)))}}));
  r.add_gauge("iotxmpp_build_info", "The iotxmpp build: always 1, its version in the label",
              {{"version", std::string(version())}})
      .set(1);
  store_metrics();  // the store's series show from the first scrape too
  return m;
}

}  // namespace

const server_metric_set& server_metrics() {
  static const server_metric_set m = make();
  return m;
}

void count_stanza_received(pugi::xml_node stanza) {
  server_metrics().stanzas_received[stanza_kind_index(stanza.name())]->add();
}

void count_stanza_sent_named(std::string_view local_name) {
  server_metrics().stanzas_sent[stanza_kind_index(local_name)]->add();
}

void count_stanza_sent(std::string_view bytes) {
  const auto open = bytes.find('<');
  if (open == std::string_view::npos) return;
  bytes.remove_prefix(open + 1);
  const auto end = bytes.find_first_of(" \t\r\n/>");
  count_stanza_sent_named(bytes.substr(0, end));
}

void count_stream_error(stream_condition c) {
  const auto& errors = server_metrics().stream_errors;
  const auto i = static_cast<std::size_t>(c);
  if (i < errors.size()) errors[i]->add();
}

void set_feed_lag_seconds(double seconds) { server_metrics().feed_lag_seconds.set(seconds); }

std::vector<metrics::callback_handle> watch_writer(const store_writer& writer,
                                                   std::size_t queue_capacity) {
  auto& r = metrics::global();
  std::vector<metrics::callback_handle> handles;
  handles.push_back(r.add_callback(
      "iotxmpp_writer_queue_items",
      "Items waiting in the store writer's queue (not yet in a transaction); at "
      "iotxmpp_writer_queue_capacity_items sessions are paused",
      metrics::kind::gauge, {}, [&writer] { return double(writer.stats().waiting_now); }));
  handles.push_back(r.add_callback(
      "iotxmpp_writer_pending_items",
      "Items submitted to the store writer and not yet committed or refused (the "
      "transaction in flight included)",
      metrics::kind::gauge, {}, [&writer] { return double(writer.stats().queued_now); }));
  handles.push_back(r.add_callback(
      "iotxmpp_writer_queue_capacity_items",
      "Items the store writer's queue holds before sessions are paused (--queue)",
      metrics::kind::gauge, {}, [queue_capacity] { return double(queue_capacity); }));
  handles.push_back(r.add_callback(
      "iotxmpp_database_up", "1 when the store writer's last attempt reached the database",
      metrics::kind::gauge, {}, [&writer] { return writer.stats().database_up ? 1.0 : 0.0; }));
  return handles;
}

}  // namespace iotxmpp
