// Channel binding from a real TLS handshake between two OpenSSL connections
// in memory (a BIO pair, no sockets), with the test CA's server certificate.

#include "core/sasl/channel_binding.hpp"

#include <gtest/gtest.h>

#include <openssl/ssl.h>

#include <memory>

#include "support/test_pki.hpp"

namespace iotxmpp {
namespace {

using ctx_ptr = std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)>;
using ssl_ptr = std::unique_ptr<SSL, decltype(&SSL_free)>;

// A client and a server connected by a BIO pair, handshaken at `version`.
struct tls_pair {
  ctx_ptr server_ctx{SSL_CTX_new(TLS_server_method()), SSL_CTX_free};
  ctx_ptr client_ctx{SSL_CTX_new(TLS_client_method()), SSL_CTX_free};
  ssl_ptr server{nullptr, SSL_free};
  ssl_ptr client{nullptr, SSL_free};

  tls_pair(const test::test_pki& pki, int version) {
    SSL_CTX_set_min_proto_version(server_ctx.get(), version);
    SSL_CTX_set_max_proto_version(server_ctx.get(), version);
    EXPECT_EQ(SSL_CTX_use_certificate_chain_file(server_ctx.get(), pki.server_cert().c_str()), 1);
    EXPECT_EQ(
        SSL_CTX_use_PrivateKey_file(server_ctx.get(), pki.server_key().c_str(), SSL_FILETYPE_PEM),
        1);
    EXPECT_EQ(SSL_CTX_load_verify_locations(client_ctx.get(), pki.ca_cert().c_str(), nullptr), 1);
    SSL_CTX_set_verify(client_ctx.get(), SSL_VERIFY_PEER, nullptr);
    server.reset(SSL_new(server_ctx.get()));
    client.reset(SSL_new(client_ctx.get()));
    BIO* at_client = nullptr;
    BIO* at_server = nullptr;
    BIO_new_bio_pair(&at_client, 0, &at_server, 0);
    SSL_set_bio(client.get(), at_client, at_client);
    SSL_set_bio(server.get(), at_server, at_server);
    SSL_set_connect_state(client.get());
    SSL_set_accept_state(server.get());
  }

  // Steps both ends until both finished the handshake; false if either fails.
  bool handshake() {
    bool client_done = false, server_done = false;
    for (int round = 0; round < 20 && !(client_done && server_done); ++round) {
      if (!client_done && !step(client.get(), client_done)) return false;
      if (!server_done && !step(server.get(), server_done)) return false;
    }
    return client_done && server_done;
  }

  static bool step(SSL* ssl, bool& done) {
    int r = SSL_do_handshake(ssl);
    if (r == 1) {
      done = true;
      return true;
    }
    int e = SSL_get_error(ssl, r);
    return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE;
  }
};

TEST(ChannelBinding, Tls13UsesTheExporterOnBothSides) {
  test::test_pki pki;
  tls_pair tls(pki, TLS1_3_VERSION);
  ASSERT_TRUE(tls.handshake());
  auto at_client = tls_channel_binding(tls.client.get(), false);
  auto at_server = tls_channel_binding(tls.server.get(), true);
  EXPECT_EQ(at_client.type, "tls-exporter");
  EXPECT_EQ(at_server.type, "tls-exporter");
  EXPECT_EQ(at_client.data.size(), 32u);
  EXPECT_EQ(at_client.data, at_server.data);

  tls_pair another(pki, TLS1_3_VERSION);
  ASSERT_TRUE(another.handshake());
  EXPECT_NE(tls_channel_binding(another.client.get(), false).data, at_client.data)
      << "each connection has its own exporter value";
}

TEST(ChannelBinding, Tls12HashesTheServerCertificate) {
  test::test_pki pki;
  tls_pair tls(pki, TLS1_2_VERSION);
  ASSERT_TRUE(tls.handshake());
  auto at_client = tls_channel_binding(tls.client.get(), false);
  auto at_server = tls_channel_binding(tls.server.get(), true);
  EXPECT_EQ(at_client.type, "tls-server-end-point");
  EXPECT_EQ(at_server.type, "tls-server-end-point");
  EXPECT_EQ(at_client.data.size(), 32u) << "the test CA signs with ECDSA-SHA256";
  EXPECT_EQ(at_client.data, at_server.data);

  tls_pair again(pki, TLS1_2_VERSION);
  ASSERT_TRUE(again.handshake());
  EXPECT_EQ(tls_channel_binding(again.client.get(), false).data, at_client.data)
      << "the same certificate binds the same way on every connection";
}

TEST(ChannelBinding, NoneBeforeTheHandshake) {
  test::test_pki pki;
  tls_pair tls(pki, TLS1_3_VERSION);
  EXPECT_TRUE(tls_channel_binding(tls.client.get(), false).type.empty());
  EXPECT_TRUE(tls_channel_binding(nullptr, false).type.empty());
}

}  // namespace
}  // namespace iotxmpp
