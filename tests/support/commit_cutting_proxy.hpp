#pragma once
// A TCP proxy between a MySQL client and server that can lose a COMMIT's
// reply. It listens on its own port on 127.0.0.1 and forwards each accepted
// connection to the upstream server, byte for byte. When armed, it forwards
// the next COM_QUERY whose text is COMMIT and then shuts down both sockets at
// once, before the server's reply can come back: the server has read the
// whole command and commits; the client sees the connection lost.
//
// It reads only the client's packet framing (3-byte length, sequence byte,
// payload), so it needs the plain protocol: no TLS, no compression (the
// suite's MariaDB offers neither). IPv4 upstream only.

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace iotxmpp::test {

class commit_cutting_proxy {
 public:
  // Listens on a free loopback port, forwarding to upstream_ip:upstream_port.
  // listening() is false when the socket could not be set up.
  commit_cutting_proxy(std::string upstream_ip, unsigned short upstream_port);
  // Stops accepting, cuts every connection and joins its threads.
  ~commit_cutting_proxy();
  commit_cutting_proxy(const commit_cutting_proxy&) = delete;
  commit_cutting_proxy& operator=(const commit_cutting_proxy&) = delete;

  bool listening() const { return listen_fd_ >= 0; }
  unsigned short port() const { return port_; }
  // `mysql_url` (a store URL) with its host and port replaced by the proxy's.
  std::string url_for(std::string_view mysql_url) const;

  // The next COMMIT sent through any connection is cut (one per call).
  void arm() { armed_ += 1; }
  // COMMITs cut so far.
  int cuts() const { return cuts_; }

 private:
  struct connection {
    int client = -1, server = -1;
    std::thread pump;
  };
  void accept_loop();
  void pump(connection& c);
  // Whether this complete client packet should be the cut: an armed COMMIT.
  bool take_cut(std::string_view packet);

  std::string upstream_ip_;
  unsigned short upstream_port_;
  int listen_fd_ = -1;
  unsigned short port_ = 0;
  std::atomic<int> armed_{0}, cuts_{0};
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;  // guards connections_
  std::vector<std::unique_ptr<connection>> connections_;
  std::thread acceptor_;
};

}  // namespace iotxmpp::test
