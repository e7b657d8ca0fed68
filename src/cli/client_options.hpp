#pragma once
// The options every client subcommand (send, query, tail, simulate) shares,
// declared in one place so their flags, environment variables and help read
// the same everywhere: --server, --domain, --timeout, --json.

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
  std::string server = "localhost:5222";  // --server, env IOTXMPP_SERVER
  std::string domain = "iot.local";       // --domain, env IOTXMPP_DOMAIN
  std::string timeout = "5s";             // --timeout
  bool json = false;                      // --json
};

// Declares the four options on `sub`; the flags are filled by parsing.
// `timeout_help` says what --timeout bounds for this subcommand.
std::shared_ptr<client_flags> add_client_options(
    CLI::App& sub, const char* timeout_help = "Connect and reply timeout (ms/s/m/h)");

// The parsed --timeout; usage error when it is not a positive duration.
result<std::chrono::milliseconds> timeout_of(const client_flags& flags);

// Core client options from the flags (server address, domain, and the
// timeout as connect_timeout); usage error naming the bad flag.
result<client_options> to_client_options(const client_flags& flags);

// A blocking client made from the flags, connected and bound: the usage
// error of a bad flag, or the connect error (connect, timeout, remote).
result<std::unique_ptr<blocking_client>> connect_client(const client_flags& flags);

}  // namespace iotxmpp::cli
