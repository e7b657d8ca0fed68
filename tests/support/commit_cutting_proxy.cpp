#include "support/commit_cutting_proxy.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace iotxmpp::test {
namespace {

constexpr unsigned char com_query = 0x03;

bool send_all(int fd, const char* data, std::size_t n) {
  while (n > 0) {
    ssize_t sent = send(fd, data, n, MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) continue;
    if (sent <= 0) return false;
    data += sent;
    n -= static_cast<std::size_t>(sent);
  }
  return true;
}

bool is_commit(std::string_view packet) {
  // Header (length, sequence), then the command byte and the query text.
  std::string_view payload = packet.substr(4);
  if (payload.size() != 7 || static_cast<unsigned char>(payload[0]) != com_query) return false;
  for (std::size_t i = 0; i < 6; ++i)
    if ((payload[1 + i] & ~0x20) != "COMMIT"[i]) return false;
  return true;
}

}  // namespace

commit_cutting_proxy::commit_cutting_proxy(std::string upstream_ip, unsigned short upstream_port)
    : upstream_ip_(std::move(upstream_ip)), upstream_port_(upstream_port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(fd, 16) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    if (fd >= 0) close(fd);
    return;
  }
  listen_fd_ = fd;
  port_ = ntohs(a.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

commit_cutting_proxy::~commit_cutting_proxy() {
  stopping_ = true;
  if (listen_fd_ < 0) return;
  shutdown(listen_fd_, SHUT_RDWR);  // wakes accept()
  acceptor_.join();
  close(listen_fd_);
  // No new connection now: shut each one down (waking its pump), join, close.
  for (auto& c : connections_) {
    shutdown(c->client, SHUT_RDWR);
    shutdown(c->server, SHUT_RDWR);
    c->pump.join();
    close(c->client);
    close(c->server);
  }
}

std::string commit_cutting_proxy::url_for(std::string_view mysql_url) const {
  // mysql://USER[:PASSWORD]@HOST[:PORT]/DATABASE; the last '@' ends the user.
  std::size_t at = mysql_url.rfind('@');
  std::size_t slash = mysql_url.find('/', at);
  return std::string(mysql_url.substr(0, at + 1)) + "127.0.0.1:" + std::to_string(port_) +
         std::string(mysql_url.substr(slash));
}

void commit_cutting_proxy::accept_loop() {
  for (;;) {
    int client = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;  // shut down
    }
    int server = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(upstream_port_);
    inet_pton(AF_INET, upstream_ip_.c_str(), &a.sin_addr);
    if (server < 0 || connect(server, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      if (server >= 0) close(server);
      close(client);  // the client sees the server unreachable
      continue;
    }
    std::lock_guard lock(mutex_);
    if (stopping_) {
      close(client);
      close(server);
      return;
    }
    auto c = std::make_unique<connection>();
    c->client = client;
    c->server = server;
    connection* raw = c.get();
    c->pump = std::thread([this, raw] { pump(*raw); });
    connections_.push_back(std::move(c));
  }
}

bool commit_cutting_proxy::take_cut(std::string_view packet) {
  if (!is_commit(packet)) return false;
  for (int armed = armed_; armed > 0;)
    if (armed_.compare_exchange_weak(armed, armed - 1)) return true;
  return false;
}

// Forwards both ways until either side closes or the connection is cut. The
// sockets stay open (shut down) until the destructor, so that no descriptor
// is closed while another thread may still use its number.
void commit_cutting_proxy::pump(connection& c) {
  std::string from_client;  // bytes of an incomplete client packet
  char buf[16384];
  pollfd fds[2] = {{c.client, POLLIN, 0}, {c.server, POLLIN, 0}};
  for (bool open = true; open;) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[1].revents) {
      ssize_t n = recv(c.server, buf, sizeof buf, 0);
      open = n > 0 && send_all(c.client, buf, static_cast<std::size_t>(n));
    }
    if (open && fds[0].revents) {
      ssize_t n = recv(c.client, buf, sizeof buf, 0);
      open = n > 0;
      if (open) from_client.append(buf, static_cast<std::size_t>(n));
      // Forward whole packets only, so that a COMMIT is seen whole.
      while (open && from_client.size() >= 4) {
        auto b = reinterpret_cast<const unsigned char*>(from_client.data());
        std::size_t size = 4 + (b[0] | b[1] << 8 | b[2] << 16);
        if (from_client.size() < size) break;
        std::string_view packet(from_client.data(), size);
        bool cut = take_cut(packet);
        open = send_all(c.server, packet.data(), packet.size()) && !cut;
        if (cut) ++cuts_;
        from_client.erase(0, size);
      }
    }
  }
  // Both sides at once: the server gets the COMMIT and then end-of-stream,
  // the client end-of-stream instead of the reply.
  shutdown(c.server, SHUT_RDWR);
  shutdown(c.client, SHUT_RDWR);
}

}  // namespace iotxmpp::test
