#pragma once
// A deliberately dumb blocking TCP client for black-box wire tests: it sends
// exactly the bytes it is given and reads what comes back, the way a hostile
// or clumsy device would. POSIX sockets only, no XML parsing.

#include <chrono>
#include <string>
#include <string_view>

#include "core/sasl/scram.hpp"

struct ssl_ctx_st;
struct ssl_st;

namespace iotxmpp::test {

// How raw_client::start_tls shakes hands.
struct raw_tls_options {
  std::string ca_file;             // verify the server against it; empty: no verification
  std::string host = "iot.local";  // SNI and the name checked
  bool tls12_only = false;         // cap at TLS 1.2 (tls-server-end-point binding)
};

class raw_client {
 public:
  // Connects to host:port (IPv4 or IPv6 literal). Throws on failure. When
  // local_port is non-zero the socket binds it first (SO_REUSEADDR).
  raw_client(const std::string& host, unsigned short port, unsigned short local_port = 0);
  ~raw_client();
  raw_client(const raw_client&) = delete;
  raw_client& operator=(const raw_client&) = delete;

  void send(std::string_view bytes);
  // Reads until `needle` appears in what was received since the last call
  // that consumed (returns everything up to and including it, and keeps the
  // rest), or until the timeout (returns "" and keeps everything).
  std::string read_until(std::string_view needle,
                         std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Reads until the server closes the connection (or the timeout); returns
  // everything not consumed yet. closed() tells whether EOF was seen.
  std::string read_to_close(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Waits up to `timeout` for any bytes; returns what arrived (maybe "").
  std::string read_some(std::chrono::milliseconds timeout);
  bool closed() const { return closed_; }
  // Closes the connection at once (a device that vanishes); later sends
  // throw and reads return nothing.
  void close();
  unsigned short local_port() const { return local_port_; }

  // A loopback port free right now, for tests that bind clients explicitly
  // (a port taken implicitly by connect() cannot be shared by a bind()).
  static unsigned short free_port();

  // Opens the stream, authenticates ANONYMOUS, restarts, binds `resource`
  // (empty: server-made) and returns the bound full JID. Throws on failure.
  std::string negotiate(std::string_view resource = "dev", std::string_view domain = "iot.local");
  // The opening header a client sends.
  static std::string header(std::string_view domain = "iot.local");

  // TLS on the connection from here (blocking handshake); throws with
  // OpenSSL's reason when it fails. Later sends and reads go through TLS.
  void start_tls(const raw_tls_options& options = {});
  // The TLS channel's binding for SCRAM -PLUS (empty type without TLS).
  channel_binding binding() const;
  bool tls_1_3() const;
  // SHA-256 of the server's certificate (hex), to tell certificates apart.
  std::string peer_fingerprint() const;

  // After the stream header and features: SASL with `mechanism` (SCRAM-*,
  // PLAIN) as `user`; returns the server's last SASL element (<success .../>
  // or <failure>...</failure>). Verifies the server's SCRAM signature on
  // success (throws when it is wrong).
  std::string authenticate(std::string_view mechanism, std::string_view user,
                           std::string_view password);
  // Restart and bind after a successful authenticate(); the full JID.
  std::string bind_after_auth(std::string_view resource = "dev",
                              std::string_view domain = "iot.local");

 private:
  bool fill(std::chrono::steady_clock::time_point deadline);
  int fd_ = -1;
  ssl_ctx_st* ctx_ = nullptr;
  ssl_st* ssl_ = nullptr;
  unsigned short local_port_ = 0;
  bool closed_ = false;
  std::string buffer_;
};

}  // namespace iotxmpp::test
