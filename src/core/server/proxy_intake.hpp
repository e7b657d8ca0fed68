#pragma once
// Connections on a PROXY listener (--listen-proxy, --listen-tls-proxy): the
// load balancer's header is read first, then the session starts with the
// device's address and port as if it had connected directly. The header is
// read from the socket exactly (peeked, then only its own bytes taken), so
// the device's first bytes, XML or a TLS ClientHello, stay in the socket for
// the session; a direct-TLS session's handshake therefore begins only after
// the header. Reading is non-blocking on the shard's reactor, like a
// session's: no thread and no blocking read per connection.
// Included by server.cpp only (it pulls in asio).

#include <chrono>
#include <vector>

#include "core/base/log_limiter.hpp"
#include "core/server/address_range.hpp"
#include "core/server/session.hpp"

namespace iotxmpp {

// The address as sessions and ranges see it: IPv4-mapped IPv6 (from a
// dual-stack listener) written as IPv4.
asio::ip::address plain_address(const asio::ip::address& a);

// Whether `peer` is inside one of `trusted`.
bool is_trusted(const std::vector<address_range>& trusted, const asio::ip::address& peer);

// The warnings about connections on PROXY listeners (an untrusted source, a
// malformed, late or cut-off header): anyone who can connect can cause them,
// so at most 20 in 10 s are logged; `held_back` on the next one counts the
// others.
log::limiter& proxy_warnings();

// Reads the PROXY header of `socket` (accepted from the trusted `peer`) and
// then starts its session on `home` with the header's source address; the
// real peer's for LOCAL and UNKNOWN headers (health checks). A malformed
// header, or none complete within `timeout`, closes the connection with a
// warning naming the peer (proxy_warnings); a peer that closes before sending any byte (a
// plain TCP health check) is logged at debug level only. Home thread only.
void receive_proxy_header(session_socket socket, const asio::ip::tcp::endpoint& peer, shard& home,
                          bool direct_tls, std::chrono::milliseconds timeout);

}  // namespace iotxmpp
