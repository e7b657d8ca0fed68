#pragma once
// A deliberately dumb blocking TCP client for black-box wire tests: it sends
// exactly the bytes it is given and reads what comes back, the way a hostile
// or clumsy device would. POSIX sockets only, no XML parsing.

#include <chrono>
#include <string>
#include <string_view>

namespace iotxmpp::test {

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
  unsigned short local_port() const { return local_port_; }

  // A loopback port free right now, for tests that bind clients explicitly
  // (a port taken implicitly by connect() cannot be shared by a bind()).
  static unsigned short free_port();

  // Opens the stream, authenticates ANONYMOUS, restarts, binds `resource`
  // (empty: server-made) and returns the bound full JID. Throws on failure.
  std::string negotiate(std::string_view resource = "dev", std::string_view domain = "iot.local");
  // The opening header a client sends.
  static std::string header(std::string_view domain = "iot.local");

 private:
  bool fill(std::chrono::steady_clock::time_point deadline);
  int fd_ = -1;
  unsigned short local_port_ = 0;
  bool closed_ = false;
  std::string buffer_;
};

}  // namespace iotxmpp::test
