#include "support/scripted_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

namespace iotxmpp::test {
namespace {

constexpr const char* header =
    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
    "xmlns:stream='http://etherx.jabber.org/streams' from='iot.local' id='x1' version='1.0'>";

}  // namespace

scripted_server::script scripted_server::negotiation(std::string resource, script then) {
  script s{
      {"version='1.0'>",
       std::string(header) +
           "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
           "<mechanism>ANONYMOUS</mechanism></mechanisms></stream:features>"},
      {"mechanism='ANONYMOUS'/>", "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>"},
      {"version='1.0'>",
       std::string(header) +
           "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>"},
      {"</iq>",
       "<iq type='result' id='bind'><bind "
       "xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>1@127.0.0.1/" +
           resource + "</jid></bind></iq>"},
  };
  s.insert(s.end(), then.begin(), then.end());
  return s;
}

scripted_server::scripted_server(script steps, bool accept) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      ::listen(listen_fd_, 4) != 0 ||
      getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    throw std::runtime_error("scripted_server: cannot listen");
  port_ = ntohs(addr.sin_port);
  // Without accepting, the kernel still completes TCP handshakes into the
  // backlog: a server that connects but never speaks.
  if (accept) thread_ = std::thread([this, steps = std::move(steps)] { run(steps); });
}

scripted_server::~scripted_server() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

std::string scripted_server::received() const {
  std::lock_guard lock(mutex_);
  return received_;
}

void scripted_server::run(script steps) {
  pollfd p{listen_fd_, POLLIN, 0};
  while (!stop_ && ::poll(&p, 1, 50) <= 0) {
  }
  if (stop_) return;
  int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
  if (fd < 0) return;
  std::size_t seen = 0;  // bytes of received_ already matched by earlier steps
  std::size_t step = 0;
  char buf[4096];
  while (!stop_) {
    while (step < steps.size()) {
      std::string got = received();
      auto at = steps[step].first.empty() ? seen : got.find(steps[step].first, seen);
      if (at == std::string::npos) break;
      seen = at + steps[step].first.size();
      const std::string& reply = steps[step].second;
      if (!reply.empty()) ::send(fd, reply.data(), reply.size(), MSG_NOSIGNAL);
      ++step;
    }
    pollfd c{fd, POLLIN, 0};
    if (::poll(&c, 1, 50) <= 0) continue;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    std::lock_guard lock(mutex_);
    received_.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
}

unsigned short unused_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), len);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace iotxmpp::test
