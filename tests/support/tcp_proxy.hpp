#pragma once
// A TCP relay on 127.0.0.1 for tests: every connection it accepts is
// relayed to 127.0.0.1:upstream_port. drop_all() cuts every relayed
// connection at once, with a reset to both sides, the way a NAT or a load
// balancer that forgets its flows does; connections made afterwards are
// relayed as before. One thread, poll(), blocking writes (both ends read).

#include <atomic>
#include <cstddef>
#include <mutex>
#include <thread>
#include <vector>

namespace iotxmpp::test {

class tcp_proxy {
 public:
  explicit tcp_proxy(unsigned short upstream_port);
  ~tcp_proxy();
  tcp_proxy(const tcp_proxy&) = delete;
  tcp_proxy& operator=(const tcp_proxy&) = delete;

  unsigned short port() const { return port_; }
  // Resets every connection relayed now; returns how many it cut.
  std::size_t drop_all();
  // While on, new connections are reset at once (a server that is gone).
  void refuse_new(bool on) { refusing_ = on; }
  // Connections accepted (and relayed) so far.
  std::size_t accepted() const { return accepted_; }

 private:
  struct pair {
    int client, server;
  };
  void run();
  void wake();

  unsigned short upstream_;
  unsigned short port_ = 0;
  int listener_ = -1;
  int wake_[2] = {-1, -1};
  std::atomic<bool> stop_{false};
  std::atomic<bool> refusing_{false};
  std::atomic<std::size_t> accepted_{0};
  std::mutex mutex_;  // guards pairs_ and drop_
  std::vector<pair> pairs_;
  bool drop_ = false;
  std::size_t dropped_ = 0;
  std::thread thread_;
};

}  // namespace iotxmpp::test
