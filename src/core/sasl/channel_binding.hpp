#pragma once
// Channel-binding data of a TLS connection for SCRAM -PLUS: tls-exporter
// (RFC 9266) on TLS 1.3, tls-server-end-point (RFC 5929 §4.1) below it.
// OpenSSL stays out of this header.

#include "core/sasl/scram.hpp"

struct ssl_st;

namespace iotxmpp {

// The binding of `ssl` once its handshake is complete; an empty type when
// there is none (handshake not done, no server certificate).
channel_binding tls_channel_binding(ssl_st* ssl, bool server_side);

}  // namespace iotxmpp
