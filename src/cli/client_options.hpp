#pragma once
// The options every client subcommand (send, query, tail, simulate) shares,
// declared in one place so their flags, environment variables and help read
// the same everywhere: --server, --domain, --timeout, --json, and the login
// and TLS flags --user, --password-file, --tls, --tls-ca, --tls-insecure.

#include <chrono>
#include <memory>
#include <string>

#include "core/base/error.hpp"
#include "core/client/blocking_client.hpp"
#include "core/client/client.hpp"

namespace CLI {
class App;
}

namespace iotxmpp::cli {

struct client_flags {
  std::string server = "localhost";  // --server, env IOTXMPP_SERVER (port 5222, 5223 with --tls)
  std::string domain = "iot.local";  // --domain, env IOTXMPP_DOMAIN
  std::string timeout = "5s";        // --timeout
  bool json = false;                 // --json
  std::string user;                  // --user: log in as this account (else ANONYMOUS)
  std::string password_file;         // --password-file; else env IOTXMPP_PASSWORD
  bool tls = false;                  // --tls: direct TLS (XEP-0368)
  std::string tls_ca;                // --tls-ca: CA file; requires TLS
  bool tls_insecure = false;         // --tls-insecure: no certificate check
};

// Declares the shared options on `sub`; the flags are filled by parsing.
// `timeout_help` says what --timeout bounds for this subcommand.
std::shared_ptr<client_flags> add_client_options(
    CLI::App& sub, const char* timeout_help = "Connect and reply timeout (ms/s/m/h)");

// The parsed --timeout; usage error when it is not a positive duration.
result<std::chrono::milliseconds> timeout_of(const client_flags& flags);

// The password for --user: the first line of --password-file (one trailing
// newline dropped), else $IOTXMPP_PASSWORD. Usage error naming the flag when
// the file cannot be read or neither is there.
result<std::string> password_of(const client_flags& flags);

// Core client options from the flags (server address, domain, the timeout
// as connect_timeout, login, TLS); usage error naming the bad flag, or an
// unreadable password or CA file.
result<client_options> to_client_options(const client_flags& flags);

// A blocking client made from the flags, connected and bound: the usage
// error of a bad flag, or the connect error (connect, timeout, protocol).
// A server that refuses the login (wrong credentials: "authentication
// failed: not-authorized", a refused bind, a stream error before bind) is
// error_kind::connect too, so that it exits 3 like any other "cannot
// connect", keeping the server's condition.
result<std::unique_ptr<blocking_client>> connect_client(const client_flags& flags);

}  // namespace iotxmpp::cli
