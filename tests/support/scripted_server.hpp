#pragma once
// A fake XMPP server on 127.0.0.1:0 for client tests: it accepts one
// connection and plays a script (wait until the client has sent a needle,
// then answer with canned bytes), then reads and discards until the client
// leaves. Lets tests make a server that stalls, lies or never answers.

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace iotxmpp::test {

class scripted_server {
 public:
  // (needle the client must have sent, bytes to answer); an empty needle
  // answers at once.
  using script = std::vector<std::pair<std::string, std::string>>;

  explicit scripted_server(script steps, bool accept = true);
  ~scripted_server();

  unsigned short port() const { return port_; }
  // Everything the client sent so far (safe to read after the client left).
  std::string received() const;

  // A script that negotiates like iotxmpp (ANONYMOUS, bind) and binds
  // 1@127.0.0.1/RESOURCE, followed by `then`.
  static script negotiation(std::string resource = "r", script then = {});

 private:
  void run(script steps);

  int listen_fd_ = -1;
  unsigned short port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  std::string received_;
  std::thread thread_;
};

// A TCP port on 127.0.0.1 that nobody listens on (just released): connecting
// to it is refused.
unsigned short unused_port();

}  // namespace iotxmpp::test
