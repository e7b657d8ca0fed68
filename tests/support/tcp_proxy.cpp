#include "support/tcp_proxy.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <stdexcept>

namespace iotxmpp::test {
namespace {

sockaddr_in loopback(unsigned short port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

// Closes with a reset (SO_LINGER 0) rather than a FIN.
void reset(int fd) {
  linger l{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  ::close(fd);
}

bool write_all(int fd, const char* data, std::size_t n) {
  while (n > 0) {
    ssize_t w = ::send(fd, data, n, MSG_NOSIGNAL);
    if (w <= 0) return false;
    data += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

}  // namespace

tcp_proxy::tcp_proxy(unsigned short upstream_port) : upstream_(upstream_port) {
  listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  auto a = loopback(0);
  if (::bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::listen(listener_, 128) != 0 || ::pipe(wake_) != 0)
    throw std::runtime_error("tcp_proxy: cannot listen");
  socklen_t len = sizeof a;
  ::getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
  thread_ = std::thread([this] { run(); });
}

tcp_proxy::~tcp_proxy() {
  stop_ = true;
  wake();
  thread_.join();
  for (auto& p : pairs_) {
    ::close(p.client);
    ::close(p.server);
  }
  ::close(listener_);
  ::close(wake_[0]);
  ::close(wake_[1]);
}

void tcp_proxy::wake() {
  char c = 0;
  [[maybe_unused]] auto n = ::write(wake_[1], &c, 1);
}

std::size_t tcp_proxy::drop_all() {
  std::unique_lock lock(mutex_);
  drop_ = true;
  lock.unlock();
  wake();
  // The relay thread does the cut (it owns the sockets); wait for it.
  for (;;) {
    lock.lock();
    if (!drop_) return dropped_;
    lock.unlock();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

void tcp_proxy::run() {
  std::array<char, 64 * 1024> buffer;
  while (!stop_) {
    std::vector<pollfd> fds{{listener_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    {
      std::lock_guard lock(mutex_);
      if (drop_) {
        dropped_ = pairs_.size();
        for (auto& p : pairs_) {
          reset(p.client);
          reset(p.server);
        }
        pairs_.clear();
        drop_ = false;
      }
      for (auto& p : pairs_) {
        fds.push_back({p.client, POLLIN, 0});
        fds.push_back({p.server, POLLIN, 0});
      }
    }
    if (::poll(fds.data(), fds.size(), 200) <= 0) continue;
    if (fds[1].revents) {
      char drain[64];
      [[maybe_unused]] auto n = ::read(wake_[0], drain, sizeof drain);
    }
    if (fds[0].revents & POLLIN) {
      int c = ::accept(listener_, nullptr, nullptr);
      if (c >= 0 && refusing_) {
        reset(c);
      } else if (c >= 0) {
        int s = ::socket(AF_INET, SOCK_STREAM, 0);
        auto a = loopback(upstream_);
        if (::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
          int one = 1;
          ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          ::setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          std::lock_guard lock(mutex_);
          pairs_.push_back({c, s});
          ++accepted_;
        } else {
          reset(c);
          ::close(s);
        }
      }
    }
    std::lock_guard lock(mutex_);
    for (std::size_t i = 2; i < fds.size(); ++i) {
      if (!fds[i].revents) continue;
      std::size_t k = (i - 2) / 2;
      if (k >= pairs_.size()) break;
      if (pairs_[k].client < 0) continue;  // its other side ended it in this round
      int from = fds[i].fd;
      int to = from == pairs_[k].client ? pairs_[k].server : pairs_[k].client;
      ssize_t n = ::recv(from, buffer.data(), buffer.size(), 0);
      if (n <= 0 || !write_all(to, buffer.data(), static_cast<std::size_t>(n))) {
        // One side ended: end the other the same way, and forget the pair.
        ::close(pairs_[k].client);
        ::close(pairs_[k].server);
        pairs_[k] = {-1, -1};
      }
    }
    std::erase_if(pairs_, [](const pair& p) { return p.client < 0; });
  }
}

}  // namespace iotxmpp::test
