#pragma once
// Channel-binding data of a TLS connection for SCRAM's -PLUS mechanisms:
// tls-exporter (RFC 9266) on TLS 1.3, tls-server-end-point (RFC 5929 §4.1)
// on TLS 1.2. Used by the client and the server alike; it needs only the
// OpenSSL connection, not the transport around it.

#include "core/sasl/scram.hpp"

struct ssl_st;
using SSL = ssl_st;

namespace iotxmpp {

// The binding of `ssl`, which must have finished its handshake.
// `server_side`: `ssl` is the server's end (its own certificate is the one
// hashed for tls-server-end-point); otherwise the client's (the peer's).
//
// TLS 1.3: type "tls-exporter", data the 32 bytes of
// SSL_export_keying_material with label "EXPORTER-Channel-Binding" and no
// context. TLS 1.2 and below: type "tls-server-end-point", data the hash of
// the server's certificate (DER) with the hash of its signature algorithm,
// SHA-256 where that is MD5 or SHA-1. Empty type (and data) when neither
// applies: no handshake yet, no server certificate, or a signature algorithm
// without a single hash (Ed25519).
channel_binding tls_channel_binding(SSL* ssl, bool server_side);

}  // namespace iotxmpp
