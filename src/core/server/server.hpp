#pragma once
// `serve`: listeners, io threads, sessions, the store writer, the reaper and
// graceful shutdown, put together. Asio stays behind the pimpl so that
// callers (the CLI, tests) compile without it.

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/base/error.hpp"
#include "core/iot/rules.hpp"
#include "core/server/server_config.hpp"
#include "core/store/store_writer.hpp"

namespace iotxmpp {

class registry;
struct cluster_stats;  // core/server/cluster_sync.hpp

struct server_options {
  server_config config;
  rules recommendation_rules = rules::defaults();
  std::string store_url = "sqlite:iotxmpp.db";
  writer_options writer;
  // SIGINT/SIGTERM start a graceful stop; a second one exits at once.
  bool handle_signals = false;
};

class server {
 public:
  // Opens and migrates the store, binds every listener and starts the io
  // threads. Fails with usage (bad listen address), connect/database (the
  // store) or io (address in use, no permission), with a one-line message.
  static result<std::unique_ptr<server>> start(server_options options);
  ~server();  // stop() and wait()

  // The bound endpoints as (address, port): the real port when 0 was asked.
  std::vector<std::pair<std::string, unsigned short>> endpoints() const;
  // The metrics endpoint (config.metrics) as bound; port 0 when there is none.
  std::pair<std::string, unsigned short> metrics_endpoint() const;

  // Starts a graceful stop: no new connections, system-shutdown to every
  // session; when the last session has closed (or after 3 s, when the rest
  // is cut off) the io threads end, and wait() commits everything accepted.
  // Thread-safe, idempotent.
  void stop();
  // Blocks until the stop has completed (all committed, threads joined).
  void wait();

  // Who is online on this node, and the store writer (for tests and tools
  // embedding the server).
  const registry& online() const;
  store_writer& writer();
  // --node-id, or the host name when none was given.
  const std::string& node_id() const;
  // Across nodes: the feed and conflicts read from the others (cluster_sync),
  // and the devices this node's reaper removed.
  cluster_stats cluster() const;
  std::uint64_t reaped() const;

 private:
  struct impl;
  explicit server(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace iotxmpp
