#include "core/server/cluster_sync.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "core/base/log.hpp"
#include "core/base/thread_name.hpp"
#include "core/iot/sensordata.hpp"
#include "core/server/server_metrics.hpp"
#include "core/xml/xml_escape.hpp"

namespace iotxmpp {
namespace {

using steady = std::chrono::steady_clock;

// Events per query, and queries per node before the next node's turn. A
// poll that stops short of a head polls again at once: a node far behind
// catches up as fast as the store reads, one batch in memory at a time.
constexpr std::size_t batch_events = 500;
constexpr int rounds_per_poll = 20;
constexpr auto prune_every = std::chrono::seconds(60);
constexpr std::size_t prune_limit = 10000;

std::chrono::microseconds micros(std::chrono::milliseconds d) {
  return std::chrono::duration_cast<std::chrono::microseconds>(d);
}

// The report as the feed forwards it (PROTOCOL.md §3.4), rebuilt from what
// the store keeps: `make(to)` gives it for one subscriber.
struct made_stanza {
  std::string head;  // up to the value of `to`
  std::string tail;  // from the quote after it

  std::string operator()(std::string_view to) const {
    std::string out;
    out.reserve(head.size() + to.size() + tail.size() + 8);
    out += head;
    append_escaped(out, to);
    out += tail;
    return out;
  }
};

made_stanza report_stanza(const status_report& r, std::int64_t seq) {
  made_stanza m;
  m.head = "<message from='";
  append_escaped(m.head, r.device_jid);
  m.head += "' to='";
  m.tail = "'";
  if (!r.stanza_id.empty()) {
    m.tail += " id='";
    append_escaped(m.tail, r.stanza_id);
    m.tail += "'";
  }
  m.tail += ">";
  write_status_fields(r, static_cast<std::uint64_t>(seq), m.tail);
  m.tail += "</message>";
  return m;
}

made_stanza presence_stanza(const presence_update& p) {
  made_stanza m;
  m.head = "<presence from='";
  append_escaped(m.head, p.device_jid);
  m.head += "' to='";
  m.tail = p.online ? "'" : "' type='unavailable'";
  if (p.show.empty() && p.status.empty()) {
    m.tail += "/>";
    return m;
  }
  m.tail += ">";
  if (!p.show.empty()) {
    m.tail += "<show>";
    append_escaped(m.tail, p.show, xml_context::text);
    m.tail += "</show>";
  }
  if (!p.status.empty()) {
    m.tail += "<status>";
    append_escaped(m.tail, p.status, xml_context::text);
    m.tail += "</status>";
  }
  m.tail += "</presence>";
  return m;
}

}  // namespace

result<std::string> node_id_or_host_name(std::string id) {
  if (id.empty()) {
    char host[256] = {};
    if (gethostname(host, sizeof host - 1) != 0 || !host[0])
      return fail(error_kind::usage, "no host name to use as the node id: give --node-id");
    id = host;
  }
  const bool plain = id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
                       return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
                     });
  if (!plain)
    return fail(error_kind::usage,
                "--node-id " + id + ": 1-64 characters of A-Z a-z 0-9 . _ - expected");
  return id;
}

struct cluster_sync::impl {
  const server_config& config;
  registry& online;
  feed& followers;
  connector connect;
  std::unique_ptr<store> db;  // the thread's, once started
  sys_micros started_at{};

  // The last number seen of each other node's feed.
  std::map<std::string, std::int64_t, std::less<>> seen;
  // Which other nodes lived at the last look (for the log).
  std::map<std::string, bool, std::less<>> alive;
  steady::time_point next_beat{}, next_online{}, next_prune{}, last_poll_ok{};
  bool failing = false;
  bool behind = false;       // the last poll stopped short of a node's head: poll again at once
  sys_micros oldest_read{};  // of the events the poll under way read (the lag metric)

  std::atomic<std::uint64_t> events{0}, delivered{0}, conflicts{0}, polls_failed{0};
  std::atomic<std::int64_t> lag_micros{0};
  std::atomic<std::size_t> live_nodes{0};

  std::mutex mutex;
  std::condition_variable wake;
  bool stopping = false;
  std::thread thread;

  impl(const server_config& c, registry& r, feed& f, connector k)
      : config(c), online(r), followers(f), connect(std::move(k)) {}

  result<void> begin();
  void run();
  result<void> tick();
  result<void> read_heads(bool reset);
  result<void> poll_feed();
  void take(std::string_view node, const feed_record& r, sys_micros now);
  result<void> beat();
  result<void> read_online();
};

result<void> cluster_sync::impl::begin() {
  started_at = clock::wall_now();
  if (auto r = db->heartbeat(config.node_id, started_at, started_at); !r) return r;
  return read_heads(true);
}

// Where each node's feed stands: with `reset`, every node's events so far
// count as seen (at start, and after a gap longer than the retention).
result<void> cluster_sync::impl::read_heads(bool reset) {
  auto heads = db->feed_heads();
  if (!heads) return std::unexpected(heads.error());
  for (const feed_head& h : *heads)
    if (h.node != config.node_id && (reset || !seen.contains(h.node))) seen[h.node] = h.last_seq;
  return {};
}

void cluster_sync::impl::run() {
  const auto now = steady::now();
  next_beat = now + config.heartbeat_every;
  next_online = now;
  next_prune = now + prune_every;
  last_poll_ok = now;
  std::unique_lock lock(mutex);
  while (!stopping) {
    lock.unlock();
    if (auto r = tick(); !r) {
      behind = false;
      ++polls_failed;
      server_metrics().cluster_poll_failures.add();
      db.reset();  // a new connection next time: this one may be dead
      if (!failing) log::warn("cannot read the other nodes", {{"error", r.error().message}});
      failing = true;
    } else if (failing) {
      failing = false;
      log::info("reading the other nodes again");
    }
    lock.lock();
    if (!behind) wake.wait_for(lock, config.feed_poll, [this] { return stopping; });
  }
}

result<void> cluster_sync::impl::tick() {
  const auto now = steady::now();
  if (!db) {
    auto opened = connect();
    if (!opened) return std::unexpected(opened.error());
    db = std::move(*opened);
    if (now - last_poll_ok > config.feed_retention) {
      // What the other nodes did meanwhile is older than anything we may
      // deliver: go on from where they stand now.
      log::warn("the feed of the other nodes was unread for longer than its retention: skipped");
      if (auto r = read_heads(true); !r) return r;
    }
  }
  if (auto r = poll_feed(); !r) return r;
  last_poll_ok = now;
  if (now >= next_beat) {
    next_beat = now + config.heartbeat_every;
    if (auto r = beat(); !r) return r;
  }
  if (now >= next_online) {
    next_online = now + config.online_poll;
    if (auto r = read_online(); !r) return r;
  }
  if (now >= next_prune) {
    next_prune = now + prune_every;
    auto pruned = db->prune_feed(clock::wall_now() - micros(config.feed_retention), prune_limit);
    if (!pruned) return std::unexpected(pruned.error());
  }
  return {};
}

result<void> cluster_sync::impl::poll_feed() {
  auto heads = db->feed_heads();
  if (!heads) return std::unexpected(heads.error());
  // Reports are read only while someone here follows the feed; binds and
  // presences always (a bind may end a session here).
  const bool reports = followers.followed();
  behind = false;
  oldest_read = {};
  for (const feed_head& h : *heads) {
    if (h.node == config.node_id) continue;
    // A node not seen before began after we started: all of it is new.
    std::int64_t& last = seen.try_emplace(h.node, 0).first->second;
    for (int round = 0; last < h.last_seq && round < rounds_per_poll; ++round) {
      auto batch = db->feed_after(h.node, last, batch_events, reports);
      if (!batch) return std::unexpected(batch.error());
      const sys_micros now = clock::wall_now();
      for (const feed_record& r : *batch) take(h.node, r, now);
      if (!batch->empty()) last = batch->back().seq;
      // Short: every event up to the head was there (numbers a skipped
      // duplicate or a pruned event left are gaps).
      if (batch->size() < batch_events) last = std::max(last, h.last_seq);
    }
    behind = behind || last < h.last_seq;
  }
  set_feed_lag_seconds(
      oldest_read == sys_micros{}
          ? 0.0
          : std::chrono::duration<double>(clock::wall_now() - oldest_read).count());
  return {};
}

void cluster_sync::impl::take(std::string_view node, const feed_record& r, sys_micros now) {
  ++events;
  server_metrics().cluster_events.add();
  const bool report = r.kind == feed_ref::what::report;
  const sys_micros at = report ? r.report.received_at : r.presence.at;
  if (oldest_read == sys_micros{} || at < oldest_read) oldest_read = at;
  if (r.kind == feed_ref::what::bind) {
    // The newest bind of a full JID wins, wherever it is (PROTOCOL.md §4).
    if (auto older = online.bound_before(r.presence.device_jid, r.presence.at)) {
      ++conflicts;
      server_metrics().cluster_conflicts.add();
      log::info("a newer session on another node took the JID",
                {{"jid", r.presence.device_jid}, {"node", std::string(node)}});
      older->close(stream_condition::conflict,
                   "replaced by a new session with the same JID on node " + std::string(node));
    }
    return;
  }
  if (now - at > micros(config.feed_retention)) return;  // too old to be live
  if (!followers.followed()) return;
  lag_micros = (now - at).count();
  ++delivered;
  followers.publish_made(r.room,
                         report ? report_stanza(r.report, r.seq) : presence_stanza(r.presence));
}

result<void> cluster_sync::impl::beat() {
  const sys_micros now = clock::wall_now();
  if (auto r = db->heartbeat(config.node_id, started_at, now); !r) return r;
  auto rows = db->nodes();
  if (!rows) return std::unexpected(rows.error());
  const sys_micros live_since = now - micros(config.node_dead_after);
  std::size_t live = 0;
  for (const node_row& n : *rows) {
    if (n.node == config.node_id) continue;
    const bool lives = n.last_seen >= live_since;
    live += lives;
    auto [it, fresh] = alive.try_emplace(n.node, lives);
    if ((fresh && lives) || (!fresh && it->second != lives))
      log::info(lives ? "node alive" : "node silent", {{"node", n.node}});
    it->second = lives;
  }
  live_nodes = live;
  server_metrics().cluster_live_nodes.set(static_cast<double>(live));
  return {};
}

result<void> cluster_sync::impl::read_online() {
  auto rows =
      db->online_elsewhere(config.node_id, clock::wall_now() - micros(config.node_dead_after));
  if (!rows) return std::unexpected(rows.error());
  std::vector<online_device> devices;
  devices.reserve(rows->size());
  for (auto& d : *rows) devices.push_back({std::move(d.jid), std::move(d.room), std::move(d.node)});
  online.set_elsewhere(std::move(devices));
  return {};
}

cluster_sync::cluster_sync(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

cluster_sync::~cluster_sync() { stop(); }

result<std::unique_ptr<cluster_sync>> cluster_sync::start(std::unique_ptr<store> db,
                                                          connector connect,
                                                          const server_config& config,
                                                          registry& online, feed& followers) {
  auto p = std::make_unique<impl>(config, online, followers, std::move(connect));
  p->db = std::move(db);
  if (auto r = p->begin(); !r) return std::unexpected(r.error());
  p->thread = std::thread([raw = p.get()] {
    name_this_thread("iotxmpp-cluster");
    raw->run();
  });
  return std::unique_ptr<cluster_sync>(new cluster_sync(std::move(p)));
}

void cluster_sync::stop() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->wake.notify_all();
  if (impl_->thread.joinable()) impl_->thread.join();
}

cluster_stats cluster_sync::stats() const {
  cluster_stats s;
  s.events = impl_->events;
  s.delivered = impl_->delivered;
  s.conflicts = impl_->conflicts;
  s.polls_failed = impl_->polls_failed;
  s.lag = std::chrono::microseconds(impl_->lag_micros.load());
  s.live_nodes = impl_->live_nodes;
  return s;
}

}  // namespace iotxmpp
