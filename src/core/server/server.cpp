#include "core/server/server.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <thread>

#include <boost/asio/redirect_error.hpp>

#include "core/base/clock.hpp"
#include "core/base/host_port.hpp"
#include "core/base/log.hpp"
#include "core/base/thread_name.hpp"
#include "core/server/account_directory.hpp"
#include "core/server/cluster_sync.hpp"
#include "core/server/feed.hpp"
#include "core/server/metrics_http.hpp"
#include "core/server/proxy_intake.hpp"
#include "core/server/registry.hpp"
#include "core/server/room_cache.hpp"
#include "core/server/server_metrics.hpp"
#include "core/server/session.hpp"
#include "core/store/store.hpp"

namespace iotxmpp {
namespace {

using tcp = asio::ip::tcp;

// "[::]:5222", "0.0.0.0:5222", "127.0.0.1:0", "localhost:5222".
result<std::vector<tcp::endpoint>> resolve_listen(const std::string& text, std::string_view flag) {
  auto parsed = parse_host_port(text, {.default_port = std::nullopt, .allow_port_zero = true});
  if (!parsed)
    return fail(error_kind::usage, std::string(flag) + " " + text + ": " + parsed.error().message);
  const std::string& host = parsed->host;
  const std::string port = std::to_string(parsed->port);
  const unsigned short port_number = parsed->port;
  boost::system::error_code ec;
  auto literal = asio::ip::make_address(host, ec);
  if (!ec) return std::vector<tcp::endpoint>{{literal, port_number}};
  asio::io_context io;
  tcp::resolver resolver(io);
  auto found = resolver.resolve(host, port, tcp::resolver::passive, ec);
  if (ec) return fail(error_kind::usage, std::string(flag) + " " + text + ": " + ec.message());
  std::vector<tcp::endpoint> out;
  for (const auto& entry : found) out.push_back(entry.endpoint());
  return out;
}

// What a listener expects first: TLS (XEP-0368) and/or a PROXY header.
struct listener_kind {
  bool direct_tls = false;
  bool proxy = false;
};

void raise_open_file_limit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
  if (rl.rlim_cur < rl.rlim_max) {
    rlimit wanted = rl;
    wanted.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &wanted) == 0) rl = wanted;
  }
  if (rl.rlim_cur < 4096)
    log::warn(
        "open-file limit is low: at most about this many connections; raise it with ulimit -n",
        {{"limit", std::to_string(rl.rlim_cur)}});
  else
    log::debug("open-file limit", {{"limit", std::to_string(rl.rlim_cur)}});
}

}  // namespace

struct server::impl {
  server_options options;
  std::string store_description;
  std::unique_ptr<store_writer> writer;
  std::unique_ptr<registry> online;  // made once the node id is known
  feed followers;
  std::unique_ptr<cluster_sync> cluster;
  std::unique_ptr<room_cache> rooms;
  std::unique_ptr<session_context> context;
  std::vector<std::unique_ptr<shard>> shards;
  std::vector<tcp::acceptor> acceptors;
  std::vector<listener_kind> acceptor_kinds;  // per acceptor
  std::vector<address_range> trusted_proxies;
  std::shared_ptr<tls_holder> tls;
  std::unique_ptr<account_directory> accounts;
  std::unique_ptr<metrics_http> metrics_server;
  std::vector<metrics::callback_handle> watched;  // the writer's gauges, while it runs
  std::vector<std::pair<std::string, unsigned short>> bound;
  // Signals are served on a thread of their own until wait() has committed
  // everything: a second SIGINT/SIGTERM must end the process at once even
  // while the writer waits for the database, after the network threads are
  // gone (man iotxmpp-serve).
  asio::io_context signal_io;
  std::optional<asio::signal_set> signals;
  std::thread signal_thread;
  std::vector<std::thread> threads;
  std::atomic<unsigned> next_shard{0};
  std::atomic<bool> stop_requested{false};
  bool waited = false;
  int signals_seen = 0;
  std::optional<asio::steady_timer> drain_deadline;
  std::atomic<bool> drained{false};

  std::thread reaper;
  std::mutex reaper_mutex;
  std::condition_variable reaper_cv;
  bool reaper_stop = false;
  std::atomic<std::uint64_t> reaped{0};

  result<void> bind_listeners(std::vector<std::pair<tcp::endpoint, listener_kind>> endpoints);
  void launch();
  asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, listener_kind kind);
  void accepted_from_proxy(session_socket socket, shard& target, listener_kind kind);
  void end_sessions_of(const std::vector<account_event>& events);
  void warn_if_exposed() const;
  void arm_sweeper(shard& s);
  void arm_signals();
  void begin_stop();
  void end_io();
  void reaper_loop();
};

asio::awaitable<void> server::impl::accept_loop(tcp::acceptor& acceptor, listener_kind kind) {
  for (;;) {
    shard& target = *shards[next_shard++ % shards.size()];
    boost::system::error_code ec;
    session_socket socket(target.io);
    co_await acceptor.async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      // Out of file descriptors: pause instead of spinning; sessions that
      // end free some.
      log::warn("accept failed", {{"error", ec.message()}});
      asio::steady_timer pause(acceptor.get_executor(), std::chrono::milliseconds(100));
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    server_metrics().connections_accepted.add();
    if (kind.proxy) {
      accepted_from_proxy(std::move(socket), target, kind);
      continue;
    }
    asio::post(target.io, [&target, direct_tls = kind.direct_tls, s = std::move(socket)]() mutable {
      std::make_shared<session>(std::move(s), target, direct_tls)->start();
    });
  }
}

// A connection on a PROXY listener: only a trusted load balancer may say
// whom it relays. Anyone else is cut off before a byte is read.
void server::impl::accepted_from_proxy(session_socket socket, shard& target, listener_kind kind) {
  boost::system::error_code ec;
  const tcp::endpoint peer = socket.remote_endpoint(ec);
  if (ec) return;  // already gone; the socket closes with it
  if (!is_trusted(trusted_proxies, peer.address())) {
    if (auto held = proxy_warnings().allow())
      log::warn(
          "connection to a PROXY listener from an untrusted address: closed (--trusted-proxy)",
          {{"source", format_host_port(plain_address(peer.address()).to_string(), peer.port())},
           {"held_back", std::to_string(*held)}});
    socket.close(ec);
    return;
  }
  asio::post(target.io, [this, &target, kind, peer, s = std::move(socket)]() mutable {
    receive_proxy_header(std::move(s), peer, target, kind.direct_tls,
                         options.config.proxy_header_timeout);
  });
}

void server::impl::arm_sweeper(shard& s) {
  const auto& c = options.config;
  auto interval = std::min({std::chrono::milliseconds(1000), c.negotiation_timeout / 4,
                            c.idle_timeout / 4, c.stale_after / 4});
  interval = std::max(interval, std::chrono::milliseconds(10));
  s.sweeper.expires_after(interval);
  s.sweeper.async_wait([this, &s](boost::system::error_code ec) {
    if (ec) return;
    auto now = steady::now();
    session::for_each(s, [now](session& x) { x.sweep(now); });
    arm_sweeper(s);
  });
}

void server::impl::arm_signals() {
  signals->async_wait([this](boost::system::error_code ec, int signo) {
    if (ec) return;
    if (signo == SIGHUP) {
      // New certificates for new sessions; live ones keep theirs.
      if (!tls) {
        log::info("SIGHUP: no TLS certificate to reload");
      } else if (auto reloaded = tls->reload(); !reloaded) {
        log::error("SIGHUP: TLS certificate not reloaded, the old one stays in use",
                   {{"error", reloaded.error().message}});
      } else {
        log::info("SIGHUP: TLS certificate reloaded", {{"cert", options.config.tls_cert}});
      }
      arm_signals();
      return;
    }
    if (++signals_seen > 1) {
      log::warn("second signal: exiting at once", {{"signal", std::to_string(signo)}});
      std::_Exit(130);
    }
    log::info("stopping", {{"signal", std::to_string(signo)}});
    begin_stop();
    arm_signals();
  });
}

void server::impl::begin_stop() {
  if (stop_requested.exchange(true)) return;
  // The last session to close ends the io threads (no polling); a session
  // that holds on past the deadline is cut off. Their accepted reports are
  // already queued: wait() commits them.
  context->on_last_closed = [this] { end_io(); };
  context->stopping = true;
  asio::post(shards[0]->io, [this] {
    boost::system::error_code ec;
    for (auto& a : acceptors) a.close(ec);
    for (auto& s : shards)
      asio::post(s->io, [sh = s.get()] {
        session::end_all(
            *sh, session::ending::error(stream_condition::system_shutdown, "server shutting down"));
      });
    drain_deadline.emplace(shards[0]->io, std::chrono::seconds(3));
    drain_deadline->async_wait([this](boost::system::error_code ec) {
      if (!ec) end_io();
    });
    if (context->live_sessions.load() == 0) end_io();
  });
}

// Cuts off whatever session is left and stops every io thread. Any thread;
// runs once.
void server::impl::end_io() {
  if (drained.exchange(true)) return;
  for (auto& s : shards)
    asio::post(s->io, [this, sh = s.get()] {
      session::end_all(*sh, session::ending::lost());
      sh->sweeper.cancel();
      if (sh == shards[0].get() && drain_deadline) drain_deadline->cancel();
      sh->io.stop();
    });
}

void server::impl::reaper_loop() {
  std::unique_ptr<store> db;
  std::unique_lock lock(reaper_mutex);
  while (!reaper_stop) {
    reaper_cv.wait_for(lock, options.config.reap_every);
    if (reaper_stop) break;
    lock.unlock();
    if (!db) {
      auto opened = open_store(options.store_url);
      if (opened)
        db = std::move(*opened);
      else
        log::warn("reaper cannot reach the store", {{"error", opened.error().message}});
    }
    if (db) {
      auto cutoff = clock::wall_now() - std::chrono::duration_cast<std::chrono::microseconds>(
                                            options.config.stale_after);
      auto removed = db->reap(cutoff, false);
      if (!removed) {
        log::warn("reap failed", {{"error", removed.error().message}});
        db.reset();
      } else {
        server_metrics().reaped_devices.add(removed->size());
        for (const auto& d : *removed)
          log::info("reaped", {{"jid", d.jid}, {"room", d.room}, {"node", d.node}});
        reaped += removed->size();
        // Devices of a node that died without ending their sessions, or
        // bound before their node restarted: offline now, removed above once
        // stale. One conditional UPDATE: another node doing the same at once
        // changes nothing twice.
        auto dead = db->offline_dead_nodes(
            clock::wall_now() -
            std::chrono::duration_cast<std::chrono::microseconds>(options.config.node_dead_after));
        if (!dead) {
          log::warn("marking the devices of dead or restarted nodes offline failed",
                    {{"error", dead.error().message}});
          db.reset();
        } else if (*dead > 0) {
          log::info("devices of dead or restarted nodes marked offline",
                    {{"devices", std::to_string(*dead)}});
        }
      }
    }
    lock.lock();
  }
}

server::server(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

server::~server() {
  if (impl_) {
    stop();
    wait();
  }
}

result<std::unique_ptr<server>> server::start(server_options options) {
  auto p = std::make_unique<impl>();
  p->options = std::move(options);
  auto& o = p->options;

  std::vector<std::pair<tcp::endpoint, listener_kind>> endpoints;
  const struct {
    const std::vector<std::string>& addresses;
    std::string_view flag;
    listener_kind kind;
  } listeners[] = {
      {o.config.listen, "--listen", {}},
      {o.config.listen_tls, "--listen-tls", {.direct_tls = true}},
      {o.config.listen_proxy, "--listen-proxy", {.proxy = true}},
      {o.config.listen_tls_proxy, "--listen-tls-proxy", {.direct_tls = true, .proxy = true}},
  };
  for (const auto& l : listeners) {
    for (const auto& address : l.addresses) {
      auto r = resolve_listen(address, l.flag);
      if (!r) return std::unexpected(r.error());
      for (const auto& ep : *r) endpoints.emplace_back(ep, l.kind);
    }
  }
  if (endpoints.empty()) return fail(error_kind::usage, "no address to listen on");
  if (o.config.tls_cert.empty() != o.config.tls_key.empty())
    return fail(error_kind::usage, "--tls-cert and --tls-key go together");
  if (!o.config.listen_tls.empty() && o.config.tls_cert.empty())
    return fail(error_kind::usage, "--listen-tls needs --tls-cert and --tls-key");
  if (!o.config.listen_tls_proxy.empty() && o.config.tls_cert.empty())
    return fail(error_kind::usage, "--listen-tls-proxy needs --tls-cert and --tls-key");
  for (const auto& t : o.config.trusted_proxies) {
    auto range = address_range::parse(t);
    if (!range)
      return fail(error_kind::usage, "--trusted-proxy " + t + ": " + range.error().message);
    p->trusted_proxies.push_back(*range);
  }
  if (p->trusted_proxies.empty()) {
    if (!o.config.listen_proxy.empty())
      return fail(error_kind::usage,
                  "--listen-proxy needs --trusted-proxy CIDR (the load balancers' addresses)");
    if (!o.config.listen_tls_proxy.empty())
      return fail(error_kind::usage,
                  "--listen-tls-proxy needs --trusted-proxy CIDR (the load balancers' addresses)");
  }
  if (!o.config.tls_cert.empty()) {
    auto loaded = tls_context::load({o.config.tls_cert, o.config.tls_key});
    if (!loaded) return std::unexpected(loaded.error());
    p->tls = std::make_shared<tls_holder>(std::move(*loaded));
  }

  auto node = node_id_or_host_name(o.config.node_id);
  if (!node) return std::unexpected(node.error());
  o.config.node_id = std::move(*node);
  p->online = std::make_unique<registry>(o.config.node_id);

  auto url = store_url::parse(o.store_url);
  if (!url) return std::unexpected(url.error());
  auto db = open_store(*url);
  if (!db) return std::unexpected(db.error());
  auto migrated = (*db)->migrate();
  if (!migrated) return std::unexpected(migrated.error());
  p->store_description = (*db)->describe();
  // The writer and the room cache open their own connections; this one
  // goes to cluster_sync below.

  // The store writer keeps a core busy under full ingest; network threads on
  // every core would compete with it (and with each other's requests): on
  // two cores, one network thread gave recommend p99 1.3 ms against 6.8 ms
  // and a higher ingest rate (bench/README.md).
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  unsigned threads = o.config.threads ? o.config.threads : std::max(1u, cores - 1);
  for (unsigned i = 0; i < threads; ++i) p->shards.push_back(std::make_unique<shard>());

  if (auto bound = p->bind_listeners(std::move(endpoints)); !bound)
    return std::unexpected(bound.error());
  server_metrics();  // every series from the first scrape, zero or not
  if (!o.config.metrics.empty()) {
    auto m = metrics_http::start(o.config.metrics, [] { return metrics::global().render(); });
    if (!m) return std::unexpected(m.error());
    p->metrics_server = std::move(*m);
  }
  raise_open_file_limit();

  o.writer.queue_capacity = std::max<std::size_t>(o.writer.queue_capacity, 1);
  o.writer.node = o.config.node_id;
  p->writer = std::make_unique<store_writer>([u = *url]() { return open_store(u); }, o.writer);
  p->watched = watch_writer(*p->writer, o.writer.queue_capacity);
  p->rooms = std::make_unique<room_cache>(o.config.room_cache_size,
                                          [u = *url]() { return open_store(u); });
  p->context = std::make_unique<session_context>(o.config, o.recommendation_rules, *p->online,
                                                 p->followers, *p->rooms, *p->writer);
  auto cluster = cluster_sync::start(
      std::move(*db), [u = *url]() { return open_store(u); }, o.config, *p->online, p->followers);
  if (!cluster) return std::unexpected(cluster.error());
  p->cluster = std::move(*cluster);
  p->context->tls = p->tls;
  p->accounts = std::make_unique<account_directory>(
      [u = *url]() { return open_store(u); }, o.config.account_poll,
      [raw = p.get()](const std::vector<account_event>& events) { raw->end_sessions_of(events); });
  p->context->accounts = p->accounts.get();
  for (auto& s : p->shards) s->context = p->context.get();
  p->launch();
  return std::unique_ptr<server>(new server(std::move(p)));
}

// Binds every endpoint (by index: an IPv6 wildcard may add its IPv4 twin
// while we go). Fails with io (address in use, no permission).
result<void> server::impl::bind_listeners(
    std::vector<std::pair<tcp::endpoint, listener_kind>> endpoints) {
  for (std::size_t i = 0; i < endpoints.size(); ++i) {
    const tcp::endpoint ep = endpoints[i].first;
    const listener_kind kind = endpoints[i].second;
    tcp::acceptor a(shards[0]->io);
    boost::system::error_code ec;
    a.open(ep.protocol(), ec);
    if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
    // Accepted sockets inherit it, which saves a setsockopt per connection.
    if (!ec) a.set_option(asio::ip::tcp::no_delay(true), ec);
    if (!ec && ep.address().is_v6())
      a.set_option(asio::ip::v6_only(!ep.address().is_unspecified()), ec);
    if (!ec) a.bind(ep, ec);
    if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
    const std::string where = format_host_port(ep.address().to_string(), ep.port());
    if (ec) {
      // An unspecified IPv6 listener on a host without IPv6 falls back to
      // IPv4 rather than failing the start.
      if (ep.address().is_v6() && ep.address().is_unspecified() &&
          (ec == asio::error::address_family_not_supported || ec.value() == EADDRNOTAVAIL)) {
        endpoints.emplace_back(tcp::endpoint(asio::ip::address_v4::any(), ep.port()), kind);
        continue;
      }
      return fail(error_kind::io, "cannot listen on " + where + ": " + ec.message());
    }
    auto local = a.local_endpoint(ec);
    if (ep.address().is_v6() && ep.address().is_unspecified()) {
      // Where the system keeps IPv6 sockets IPv6-only, IPv4 needs its own.
      asio::ip::v6_only only;
      a.get_option(only, ec);
      if (!ec && only.value())
        endpoints.emplace_back(tcp::endpoint(asio::ip::address_v4::any(), local.port()), kind);
    }
    bound.emplace_back(local.address().to_string(), local.port());
    acceptors.push_back(std::move(a));
    acceptor_kinds.push_back(kind);
  }
  return {};
}

// Starts accepting, the sweepers, the signal handler, the io threads and the
// reaper.
void server::impl::launch() {
  for (std::size_t i = 0; i < acceptors.size(); ++i)
    asio::co_spawn(
        shards[0]->io,
        [this, &a = acceptors[i], kind = acceptor_kinds[i]] { return accept_loop(a, kind); },
        asio::detached);
  for (auto& s : shards) arm_sweeper(*s);
  if (options.handle_signals) {
    signals.emplace(signal_io, SIGINT, SIGTERM, SIGHUP);
    arm_signals();
    signal_thread = std::thread([this] {
      name_this_thread("iotxmpp-signals");
      signal_io.run();
    });
  }
  for (std::size_t i = 0; i < shards.size(); ++i)
    threads.emplace_back([sh = shards[i].get(), i] {
      name_this_thread("iotxmpp-net" + std::to_string(i));
      sh->io.run();
    });
  reaper = std::thread([this] {
    name_this_thread("iotxmpp-reaper");
    reaper_loop();
  });
  for (std::size_t i = 0; i < bound.size(); ++i)
    log::info("listening", {{"address", bound[i].first},
                            {"port", std::to_string(bound[i].second)},
                            {"tls", acceptor_kinds[i].direct_tls  ? "direct"
                                    : !tls                        ? "none"
                                    : options.config.tls_optional ? "starttls-optional"
                                                                  : "starttls-required"},
                            {"proxy", acceptor_kinds[i].proxy ? "v1/v2" : "no"},
                            {"domain", options.config.domain},
                            {"node", options.config.node_id},
                            {"store", store_description}});
  warn_if_exposed();
}

// Like Mosquitto 2.0, which stopped anonymous access on non-local
// listeners: say so when anyone who reaches a port may write readings.
void server::impl::warn_if_exposed() const {
  if (!options.config.anonymous) return;
  for (const auto& [addr, port] : bound) {
    boost::system::error_code ec;
    auto a = asio::ip::make_address(addr, ec);
    if (!ec && a.is_loopback()) continue;
    log::warn(
        "anonymous logins are on and a listener is not loopback: anyone who reaches it can "
        "report for any room (--anonymous no turns it off)",
        {{"address", addr}, {"port", std::to_string(port)}});
    return;
  }
}

// Ends this node's sessions of accounts that were disabled, removed,
// narrowed or given a new password (read by the account directory).
void server::impl::end_sessions_of(const std::vector<account_event>& events) {
  for (const auto& e : events) {
    auto peers = online->of_account(e.name, options.config.domain);
    if (!peers.empty())
      log::info("ending sessions of a changed account",
                {{"account", e.name},
                 {"change", std::string(to_string(e.kind))},
                 {"sessions", std::to_string(peers.size())}});
    for (auto& p : peers)
      p->close(stream_condition::not_authorized, "account " + std::string(to_string(e.kind)));
  }
}

std::vector<std::pair<std::string, unsigned short>> server::endpoints() const {
  return impl_->bound;
}

std::pair<std::string, unsigned short> server::metrics_endpoint() const {
  return impl_->metrics_server ? impl_->metrics_server->endpoint()
                               : std::pair<std::string, unsigned short>{};
}

const registry& server::online() const { return *impl_->online; }

const std::string& server::node_id() const { return impl_->options.config.node_id; }

cluster_stats server::cluster() const { return impl_->cluster->stats(); }

std::uint64_t server::reaped() const { return impl_->reaped.load(); }

store_writer& server::writer() { return *impl_->writer; }

void server::stop() { impl_->begin_stop(); }

void server::wait() {
  auto& p = *impl_;
  if (p.waited) return;
  for (auto& t : p.threads) t.join();
  p.cluster->stop();  // before the writer: it reads what the others commit
  {
    std::lock_guard lock(p.reaper_mutex);
    p.reaper_stop = true;
  }
  p.reaper_cv.notify_all();
  if (p.reaper.joinable()) p.reaper.join();
  p.rooms->stop();  // before the shards go: its pending look-ups post to them
  p.accounts->stop();
  // Everything the sessions accepted is in the writer's queue: commit it all
  // before saying we stopped. The io threads are joined first, so no session
  // submits once stop() has begun: their completion counts stay sequence
  // numbers (store_writer.hpp's exception at stop()).
  p.writer->stop();
  auto st = p.writer->stats();
  log::info("stopped", {{"committed", std::to_string(st.committed_items)},
                        {"transactions", std::to_string(st.batches)},
                        {"retries", std::to_string(st.retries)}});
  if (p.signal_thread.joinable()) {
    p.signal_io.stop();
    p.signal_thread.join();
  }
  // Scrapes go on through the drain; they end with the server.
  if (p.metrics_server) p.metrics_server->stop();
  p.watched.clear();
  p.waited = true;
}

}  // namespace iotxmpp
