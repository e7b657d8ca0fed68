#include "support/raw_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace iotxmpp::test {

raw_client::raw_client(const std::string& host, unsigned short port, unsigned short local_port) {
  sockaddr_storage addr{};
  socklen_t len = 0;
  int family = host.find(':') != std::string::npos ? AF_INET6 : AF_INET;
  if (family == AF_INET6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&addr);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(port);
    if (inet_pton(AF_INET6, host.c_str(), &a->sin6_addr) != 1)
      throw std::runtime_error("bad address " + host);
    len = sizeof(sockaddr_in6);
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&addr);
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    if (inet_pton(AF_INET, host.c_str(), &a->sin_addr) != 1)
      throw std::runtime_error("bad address " + host);
    len = sizeof(sockaddr_in);
  }
  fd_ = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (local_port) {
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_storage local{};
    local.ss_family = static_cast<sa_family_t>(family);
    if (family == AF_INET6)
      reinterpret_cast<sockaddr_in6*>(&local)->sin6_port = htons(local_port);
    else
      reinterpret_cast<sockaddr_in*>(&local)->sin_port = htons(local_port);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&local), len) != 0)
      throw std::runtime_error(std::string("bind: ") + std::strerror(errno));
  }
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0)
    throw std::runtime_error(std::string("connect: ") + std::strerror(errno));
  sockaddr_storage mine{};
  socklen_t mine_len = sizeof mine;
  getsockname(fd_, reinterpret_cast<sockaddr*>(&mine), &mine_len);
  local_port_ = ntohs(family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&mine)->sin6_port
                                         : reinterpret_cast<sockaddr_in*>(&mine)->sin_port);
}

raw_client::~raw_client() {
  if (fd_ >= 0) ::close(fd_);
}

void raw_client::send(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(std::string("send: ") + std::strerror(errno));
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
}

bool raw_client::fill(std::chrono::steady_clock::time_point deadline) {
  if (closed_) return false;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  if (left.count() < 0) return false;
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
  char buf[16384];
  ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
  if (n <= 0) {
    closed_ = true;
    return false;
  }
  buffer_.append(buf, static_cast<size_t>(n));
  return true;
}

std::string raw_client::read_until(std::string_view needle, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto at = buffer_.find(needle);
    if (at != std::string::npos) {
      std::string out = buffer_.substr(0, at + needle.size());
      buffer_.erase(0, at + needle.size());
      return out;
    }
    if (!fill(deadline)) return {};
  }
}

std::string raw_client::read_to_close(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (fill(deadline)) {
  }
  return std::exchange(buffer_, {});
}

std::string raw_client::read_some(std::chrono::milliseconds timeout) {
  fill(std::chrono::steady_clock::now() + timeout);
  return std::exchange(buffer_, {});
}

std::string raw_client::header(std::string_view domain) {
  return "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
         "xmlns:stream='http://etherx.jabber.org/streams' to='" +
         std::string(domain) + "' version='1.0'>";
}

std::string raw_client::negotiate(std::string_view resource, std::string_view domain) {
  send(header(domain));
  if (read_until("</stream:features>").find("ANONYMOUS") == std::string::npos)
    throw std::runtime_error("no ANONYMOUS offered");
  send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='ANONYMOUS'/>");
  if (read_until("/>").find("<success") == std::string::npos)
    throw std::runtime_error("auth failed");
  send(header(domain));
  if (read_until("</stream:features>").find("xmpp-bind") == std::string::npos)
    throw std::runtime_error("no bind offered");
  std::string bind = "<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>";
  if (!resource.empty()) bind += "<resource>" + std::string(resource) + "</resource>";
  bind += "</bind></iq>";
  send(bind);
  std::string reply = read_until("</iq>");
  auto a = reply.find("<jid>"), b = reply.find("</jid>");
  if (a == std::string::npos || b == std::string::npos)
    throw std::runtime_error("bind failed: " + reply);
  return reply.substr(a + 5, b - a - 5);
}

}  // namespace iotxmpp::test

namespace iotxmpp::test {

unsigned short raw_client::free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), len) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
    throw std::runtime_error(std::string("free_port: ") + std::strerror(errno));
  ::close(fd);
  return ntohs(a.sin_port);
}

}  // namespace iotxmpp::test
