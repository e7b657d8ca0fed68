#include "support/raw_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <utility>

#include "core/sasl/base64.hpp"
#include "core/sasl/channel_binding.hpp"
#include "core/sasl/plain.hpp"

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
  if (ssl_) SSL_free(ssl_);
  if (ctx_) SSL_CTX_free(ctx_);
  if (fd_ >= 0) ::close(fd_);
}

void raw_client::close() {
  if (ssl_) SSL_free(ssl_);
  ssl_ = nullptr;
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  closed_ = true;
}

namespace {
std::string ssl_reason() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

// The text between <tag ...> and </tag> in `xml`, or "".
std::string inner(const std::string& xml, std::string_view tag) {
  auto open = xml.find(std::string("<").append(tag));
  if (open == std::string::npos) return {};
  auto gt = xml.find('>', open);
  if (gt == std::string::npos || xml[gt - 1] == '/') return {};
  auto close = xml.find("</" + std::string(tag), gt);
  if (close == std::string::npos) return {};
  return xml.substr(gt + 1, close - gt - 1);
}
}  // namespace

void raw_client::start_tls(const raw_tls_options& options) {
  ctx_ = SSL_CTX_new(TLS_client_method());
  if (options.tls12_only) SSL_CTX_set_max_proto_version(ctx_, TLS1_2_VERSION);
  if (!options.ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx_, options.ca_file.c_str(), nullptr) != 1)
      throw std::runtime_error("CA file: " + ssl_reason());
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
  }
  ssl_ = SSL_new(ctx_);
  SSL_set_fd(ssl_, fd_);
  SSL_set_tlsext_host_name(ssl_, options.host.c_str());
  if (!options.ca_file.empty()) SSL_set1_host(ssl_, options.host.c_str());
  if (SSL_connect(ssl_) != 1) throw std::runtime_error("TLS handshake: " + ssl_reason());
}

channel_binding raw_client::binding() const { return tls_channel_binding(ssl_, false); }

std::string raw_client::peer_fingerprint() const {
  X509* cert = ssl_ ? SSL_get0_peer_certificate(ssl_) : nullptr;
  if (!cert) return {};
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  X509_digest(cert, EVP_sha256(), md, &n);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < n; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 15];
  }
  return out;
}

bool raw_client::tls_1_3() const { return ssl_ && SSL_version(ssl_) >= TLS1_3_VERSION; }

std::string raw_client::authenticate(std::string_view mechanism, std::string_view user,
                                     std::string_view password) {
  const std::string sasl_ns = "urn:ietf:params:xml:ns:xmpp-sasl";
  auto auth = [&](std::string_view payload) {
    send("<auth xmlns='" + sasl_ns + "' mechanism='" + std::string(mechanism) + "'>" +
         base64_encode(payload) + "</auth>");
  };
  // The server's next SASL element, whole.
  auto next = [&] {
    std::string got = read_until(">");
    if (got.empty()) throw std::runtime_error("no SASL answer");
    if (got.size() >= 2 && got[got.size() - 2] == '/') return got;
    for (std::string name : {"challenge", "success", "failure"})
      if (got.find("<" + name) != std::string::npos) return got + read_until("</" + name + ">");
    return got;
  };
  if (mechanism == "PLAIN") {
    auth(make_plain(user, password));
    return next();
  }
  auto parts = parse_scram_mechanism(mechanism);
  if (!parts) throw std::runtime_error("not a SCRAM mechanism");
  scram_client scram(parts->hash, std::string(user), std::string(password),
                     parts->plus ? binding() : channel_binding{}, false);
  auth(scram.client_first());
  std::string challenge = next();
  if (challenge.find("<challenge") == std::string::npos) return challenge;
  auto server_first = base64_decode(inner(challenge, "challenge"));
  if (!server_first) throw std::runtime_error("challenge not base64: " + challenge);
  auto final = scram.on_server_first(*server_first);
  if (auto* f = std::get_if<sasl_failure>(&final))
    throw std::runtime_error("client refused server-first: " + f->text);
  send("<response xmlns='" + sasl_ns + "'>" + base64_encode(std::get<std::string>(final)) +
       "</response>");
  std::string last = next();
  if (last.find("<success") != std::string::npos) {
    auto server_final = base64_decode(inner(last, "success"));
    if (!server_final || !scram.verify_server_final(*server_final))
      throw std::runtime_error("server signature wrong: " + last);
  }
  return last;
}

std::string raw_client::bind_after_auth(std::string_view resource, std::string_view domain) {
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

void raw_client::send(std::string_view bytes) {
  if (ssl_) {
    size_t written = 0;
    if (SSL_write_ex(ssl_, bytes.data(), bytes.size(), &written) != 1)
      throw std::runtime_error("TLS send: " + ssl_reason());
    return;
  }
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
  char buf[16384];
  if (!ssl_ || SSL_pending(ssl_) == 0) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
  }
  ssize_t n = 0;
  if (ssl_) {
    size_t got = 0;
    n = SSL_read_ex(ssl_, buf, sizeof buf, &got) == 1 ? static_cast<ssize_t>(got) : -1;
    ERR_clear_error();
  } else {
    n = ::recv(fd_, buf, sizeof buf, 0);
  }
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
  return bind_after_auth(resource, domain);
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
