#pragma once
// Everything `serve` can be told, with the defaults of PROTOCOL.md §4-5.
// Plain values: the command line fills it, the server only reads it.

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "core/server/rate_limits.hpp"
#include "core/xml/framer_limits.hpp"

namespace iotxmpp {

struct server_config {
  std::string domain = "iot.local";
  // host:port endpoints; "[::]:5222" is dual-stack where the OS allows it.
  std::vector<std::string> listen{"[::]:5222"};
  unsigned threads = 0;  // 0: one per core, less one for the store writer

  framer_limits limits{};                                 // 64 KiB, depth 32
  std::chrono::milliseconds negotiation_timeout{10'000};  // TCP accept to bind
  std::chrono::milliseconds idle_timeout{300'000};        // nothing received
  std::size_t max_negotiating_per_address = 100;
  std::size_t max_outgoing_bytes = 256 * 1024;  // per session, then dropped

  std::chrono::milliseconds stale_after{300'000};
  std::chrono::milliseconds reap_every{30'000};
  // How often an active session's last update is written to the store; kept
  // well inside stale_after so no node reaps a device that is still talking.
  std::chrono::milliseconds touch_every{30'000};

  std::size_t room_cache_size = 100'000;  // latest report per room, in memory

  // Device security (PROTOCOL.md §1-2). With a certificate, STARTTLS is
  // offered on `listen` and required unless tls_optional; `listen_tls` are
  // direct-TLS listeners (XEP-0368). The CLI adds "[::]:5223" when a
  // certificate is given and no --listen-tls.
  std::string tls_cert;  // PEM chain; empty: no TLS
  std::string tls_key;   // PEM key
  std::vector<std::string> listen_tls;
  bool tls_optional = false;
  bool anonymous = true;        // offer SASL ANONYMOUS (PORT@IP devices)
  bool plain_in_clear = false;  // offer PLAIN without TLS (labs)
  // How often account events (disable, remove, revoke, passwd from
  // `iotxmpp device`) are read, to end the sessions they concern.
  std::chrono::milliseconds account_poll{2'000};

  // XEP-0198: how long a resumable session whose connection was lost waits
  // for <resume/> (0: resumption is not offered).
  std::chrono::milliseconds resume_window{300'000};

  // Per-session stanza and byte rates (a shaper, then policy-violation) and
  // new connections per source address.
  rate_policy rates;

  // Behind a load balancer (PROTOCOL.md §1): listeners like `listen` and
  // `listen_tls` whose connections start with a PROXY protocol header (v1
  // or v2), read before anything else, before the TLS handshake on
  // listen_tls_proxy. The session then uses the device's address and port
  // from the header (JIDs, per-address limits, logs). A connection from
  // outside trusted_proxies (CIDRs) is closed at once, as is one whose
  // header is malformed or not complete within proxy_header_timeout.
  std::vector<std::string> listen_proxy;
  std::vector<std::string> listen_tls_proxy;
  std::vector<std::string> trusted_proxies;
  std::chrono::milliseconds proxy_header_timeout{5'000};

  // HOST:PORT where GET /metrics serves Prometheus metrics (metrics_http.hpp);
  // empty: no metrics endpoint.
  std::string metrics;

  // Several nodes serving one database (docs/scaling.md). This node's
  // name among them; empty: the host name (server::start fills it in).
  // 1-64 of A-Z a-z 0-9 . _ -; each node needs its own.
  std::string node_id;
  // How often the other nodes' feed events (reports, presences, binds) are
  // read: the feed across nodes and cross-node conflicts lag by about this.
  std::chrono::milliseconds feed_poll{250};
  // How often the node records that it lives, and reads who else does.
  std::chrono::milliseconds heartbeat_every{1'000};
  // A node silent for longer is dead: its devices leave disco#items at once,
  // the reapers mark them offline, and remove them once stale.
  std::chrono::milliseconds node_dead_after{10'000};
  // How often the devices online on the other nodes are read (disco#items).
  std::chrono::milliseconds online_poll{2'000};
  // Presence and bind events are kept this long; no event older than this
  // is delivered to a subscriber.
  std::chrono::milliseconds feed_retention{600'000};
};

}  // namespace iotxmpp
