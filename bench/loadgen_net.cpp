#include "loadgen_net.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>

namespace loadgen {
namespace {

constexpr std::size_t read_chunk = 256 * 1024;
constexpr std::size_t write_chunk = 256 * 1024;

sockaddr_in ipv4(const std::string& host, unsigned short port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  if (inet_pton(AF_INET, host.c_str(), &a.sin_addr) != 1)
    throw std::runtime_error("not an IPv4 address: " + host);
  return a;
}

}  // namespace

std::size_t needle_counter::feed(std::string_view data) {
  if (needle_.empty() || data.empty()) return 0;
  std::size_t found = 0;
  const std::size_t n = needle_.size();
  // Matches that start in the carried tail and end in this piece: the join
  // is shorter than two needles, so none lies wholly in either part.
  if (!carry_.empty()) {
    std::string join = carry_;
    join.append(data.substr(0, n - 1));
    for (std::size_t p = 0; (p = join.find(needle_, p)) != std::string::npos; ++p) ++found;
  }
  const char* at = data.data();
  const char* end = data.data() + data.size();
  while (at < end) {
    auto hit =
        static_cast<const char*>(memmem(at, static_cast<std::size_t>(end - at), needle_.data(), n));
    if (!hit) break;
    ++found;
    at = hit + 1;
  }
  if (data.size() >= n - 1) {
    carry_.assign(data.substr(data.size() - (n - 1)));
  } else {
    carry_.append(data);
    if (carry_.size() > n - 1) carry_.erase(0, carry_.size() - (n - 1));
  }
  count_ += found;
  return found;
}

tls_client_context::tls_client_context(const std::string& ca_file)
    : ctx_(SSL_CTX_new(TLS_client_method())) {
  if (!ctx_) throw std::runtime_error("SSL_CTX_new failed");
  SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
  SSL_CTX_set_session_cache_mode(ctx_, SSL_SESS_CACHE_OFF);
  // Partial writes: a large send goes out record by record as the socket
  // allows, and may be resumed from another buffer (send() joins pending
  // bytes into scratch). Released buffers: 10,000 idle sessions here must
  // not cost the generator 10,000 x 34 KiB.
  SSL_CTX_set_mode(ctx_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                             SSL_MODE_RELEASE_BUFFERS);
  if (ca_file.empty()) {
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_NONE, nullptr);
  } else {
    if (SSL_CTX_load_verify_locations(ctx_, ca_file.c_str(), nullptr) != 1) {
      SSL_CTX_free(ctx_);
      throw std::runtime_error("cannot load CA file " + ca_file);
    }
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
  }
}

tls_client_context::~tls_client_context() { SSL_CTX_free(ctx_); }

event_loop::event_loop() : epoll_fd_(epoll_create1(EPOLL_CLOEXEC)), buffer_(read_chunk, '\0') {
  if (epoll_fd_ < 0) throw std::runtime_error(std::string("epoll_create1: ") + strerror(errno));
}

event_loop::~event_loop() { ::close(epoll_fd_); }

bool event_loop::open(connection& c, const endpoint& to, const std::string& source,
                      ssl_ctx_st* tls) {
  c.tls = tls;
  c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c.fd < 0) {
    fail(c, std::string("socket: ") + strerror(errno));
    return false;
  }
  int one = 1;
  setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (!source.empty()) {
    // Choose the port at connect time, per destination, so that many source
    // addresses do not each reserve a port from the same ephemeral range.
    setsockopt(c.fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    sockaddr_in from = ipv4(source, 0);
    if (bind(c.fd, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0) {
      fail(c, "bind " + source + ": " + strerror(errno));
      return false;
    }
  }
  sockaddr_in dest = ipv4(to.host, to.port);
  c.closed = c.peer_closed = c.connected = false;
  c.started = steady::now();
  if (connect(c.fd, reinterpret_cast<sockaddr*>(&dest), sizeof dest) != 0 && errno != EINPROGRESS) {
    fail(c, std::string("connect: ") + strerror(errno));
    return false;
  }
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.ptr = &c;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, c.fd, &ev) != 0) {
    fail(c, std::string("epoll_ctl: ") + strerror(errno));
    return false;
  }
  return true;
}

void event_loop::send(connection& c, std::string_view bytes) {
  if (c.out.empty()) {
    c.out = bytes;
  } else {
    std::string joined(c.out);
    joined.append(bytes);
    c.scratch = std::move(joined);
    c.out = c.scratch;
  }
  flush(c);
}

void event_loop::send_copy(connection& c, std::string bytes) {
  if (c.out.empty()) {
    c.scratch = std::move(bytes);
    c.out = c.scratch;
    flush(c);
  } else {
    send(c, bytes);  // joins into scratch before `bytes` goes away
  }
}

void event_loop::start_tls(connection& c, ssl_ctx_st* tls) {
  c.ssl = SSL_new(tls);
  if (!c.ssl || SSL_set_fd(c.ssl, c.fd) != 1) {
    fail(c, "SSL_new/SSL_set_fd failed");
    return;
  }
  SSL_set_connect_state(c.ssl);
  c.handshaking = true;
  handshake(c);
}

std::string event_loop::tls_error(connection& c, int ret, const char* what) {
  int e = SSL_get_error(c.ssl, ret);
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  char buf[256] = "";
  if (code) ERR_error_string_n(code, buf, sizeof buf);
  std::string why = std::string(what) + ": SSL error " + std::to_string(e);
  if (e == SSL_ERROR_SYSCALL) why += std::string(" (") + (errno ? strerror(errno) : "EOF") + ")";
  if (*buf) why += std::string(" ") + buf;
  return why;
}

bool event_loop::handshake(connection& c) {
  int r = SSL_do_handshake(c.ssl);
  if (r == 1) {
    c.handshaking = false;
    if (c.on_connect) c.on_connect(c);
    return c.fd >= 0;
  }
  int e = SSL_get_error(c.ssl, r);
  if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return false;  // epoll resumes
  c.peer_closed = true;
  fail(c, tls_error(c, r, "TLS handshake"));
  return false;
}

void event_loop::pump(connection& c) {
  if (c.handshaking && !handshake(c)) return;
  // After the handshake the server's first records may wait in the socket
  // already (edge-triggered: no new event will say so), so read first.
  readable(c);
  if (c.fd >= 0) flush(c);
}

void event_loop::close(connection& c, bool reset) {
  if (c.ssl) {
    SSL_free(c.ssl);  // no close_notify: the socket is reset below
    c.ssl = nullptr;
    c.handshaking = false;
  }
  if (c.fd < 0) return;
  if (reset) {
    linger l{1, 0};
    setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  }
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c.fd, nullptr);
  ::close(c.fd);
  c.fd = -1;
  c.closed = true;
  c.out = {};
}

void event_loop::fail(connection& c, std::string what) {
  ++failures_;
  if (last_error_.empty()) last_error_ = std::move(what);
  if (c.fd >= 0) close(c);
  c.closed = true;
}

void event_loop::flush(connection& c) {
  if (!c.connected || c.fd < 0 || c.handshaking) return;
  if (c.ssl) {
    while (!c.out.empty()) {
      int want = static_cast<int>(std::min(c.out.size(), write_chunk));
      int n = SSL_write(c.ssl, c.out.data(), want);
      if (n > 0) {
        c.out.remove_prefix(static_cast<std::size_t>(n));
        continue;
      }
      int e = SSL_get_error(c.ssl, n);
      if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) return;  // any event resumes
      c.peer_closed = true;
      fail(c, tls_error(c, n, "SSL_write"));
      return;
    }
    return;
  }
  while (!c.out.empty()) {
    ssize_t n = ::send(c.fd, c.out.data(), std::min(c.out.size(), write_chunk), MSG_NOSIGNAL);
    if (n > 0) {
      c.out.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;  // EPOLLOUT resumes
    if (n < 0 && errno == EINTR) continue;
    c.peer_closed = true;
    fail(c, std::string("send: ") + strerror(errno));
    return;
  }
}

void event_loop::readable(connection& c) {
  while (c.ssl && !c.handshaking && c.fd >= 0) {
    int n = SSL_read(c.ssl, buffer_.data(), static_cast<int>(buffer_.size()));
    if (n > 0) {
      c.received += static_cast<std::size_t>(n);
      if (c.on_read) c.on_read(c, std::string_view(buffer_.data(), static_cast<std::size_t>(n)));
      continue;
    }
    int e = SSL_get_error(c.ssl, n);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return;
    c.peer_closed = true;
    fail(c, e == SSL_ERROR_ZERO_RETURN ? std::string("the peer closed the TLS connection")
                                       : tls_error(c, n, "SSL_read"));
    return;
  }
  if (c.ssl) return;  // handshaking: pump() goes on
  while (c.fd >= 0) {
    ssize_t n = ::recv(c.fd, buffer_.data(), buffer_.size(), 0);
    if (n > 0) {
      c.received += static_cast<std::size_t>(n);
      if (c.on_read) c.on_read(c, std::string_view(buffer_.data(), static_cast<std::size_t>(n)));
      if (c.ssl) {  // the callback started TLS (STARTTLS): the rest is TLS
        pump(c);
        return;
      }
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n < 0 && errno == EINTR) continue;
    c.peer_closed = true;
    fail(c, n == 0 ? std::string("the peer closed the connection")
                   : std::string("recv: ") + strerror(errno));
    return;
  }
}

bool event_loop::run(const std::function<bool()>& done, steady::time_point deadline) {
  epoll_event events[512];
  while (!done()) {
    auto now = steady::now();
    if (now >= deadline) return false;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
    int n =
        epoll_wait(epoll_fd_, events, 512, static_cast<int>(std::min<long long>(left + 1, 100)));
    if (n < 0 && errno != EINTR)
      throw std::runtime_error(std::string("epoll_wait: ") + strerror(errno));
    for (int i = 0; i < n; ++i) {
      auto& c = *static_cast<connection*>(events[i].data.ptr);
      if (c.fd < 0) continue;
      std::uint32_t e = events[i].events;
      if (!c.connected && (e & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
          c.peer_closed = true;
          fail(c, std::string("connect: ") + strerror(err));
          continue;
        }
        c.connected = true;
        if (c.tls) {
          start_tls(c, c.tls);
          continue;
        }
        if (c.on_connect) c.on_connect(c);
      }
      if (c.ssl) {
        if (c.fd >= 0) pump(c);
        continue;
      }
      if (c.fd >= 0 && (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) readable(c);
      if (c.fd >= 0 && (e & EPOLLOUT)) flush(c);
    }
  }
  return true;
}

int blocking_connect(const endpoint& to) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in dest = ipv4(to.host, to.port);
  if (connect(fd, reinterpret_cast<sockaddr*>(&dest), sizeof dest) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool read_until(int fd, std::string& acc, std::string_view needle,
                std::chrono::milliseconds timeout) {
  auto deadline = steady::now() + timeout;
  char buf[16384];
  while (acc.find(needle) == std::string::npos) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now()).count();
    if (left <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return false;
    acc.append(buf, static_cast<std::size_t>(n));
  }
  return true;
}

bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace loadgen
