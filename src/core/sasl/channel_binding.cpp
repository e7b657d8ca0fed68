#include "core/sasl/channel_binding.hpp"

#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <array>
#include <memory>
#include <string_view>

namespace iotxmpp {
namespace {

constexpr std::string_view exporter_label = "EXPORTER-Channel-Binding";
constexpr std::size_t exporter_length = 32;

channel_binding exporter(SSL* ssl) {
  std::array<unsigned char, exporter_length> out{};
  if (SSL_export_keying_material(ssl, out.data(), out.size(), exporter_label.data(),
                                 exporter_label.size(), nullptr, 0, 0) != 1)
    return {};
  return {"tls-exporter", std::string(reinterpret_cast<const char*>(out.data()), out.size())};
}

// RFC 5929 §4.1: the certificate's own signature hash, except that MD5 and
// SHA-1 become SHA-256. X509_get_signature_info also reads the hash out of
// RSA-PSS parameters, which the signature's NID alone does not name.
const EVP_MD* end_point_hash(X509* cert) {
  int digest_nid = NID_undef;
  if (X509_get_signature_info(cert, &digest_nid, nullptr, nullptr, nullptr) != 1) return nullptr;
  if (digest_nid == NID_md5 || digest_nid == NID_sha1) return EVP_sha256();
  if (digest_nid == NID_undef) return nullptr;  // Ed25519, Ed448: no hash to take
  return EVP_get_digestbynid(digest_nid);
}

channel_binding server_end_point(SSL* ssl, bool server_side) {
  // The server's own certificate is borrowed; the client's copy of the
  // peer's is a reference of its own.
  X509* cert = nullptr;
  std::unique_ptr<X509, decltype(&X509_free)> owned(nullptr, X509_free);
  if (server_side) {
    cert = SSL_get_certificate(ssl);
  } else {
    owned.reset(SSL_get1_peer_certificate(ssl));
    cert = owned.get();
  }
  if (!cert) return {};
  const EVP_MD* md = end_point_hash(cert);
  if (!md) return {};
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned int length = 0;
  if (X509_digest(cert, md, out.data(), &length) != 1) return {};
  return {"tls-server-end-point", std::string(reinterpret_cast<const char*>(out.data()), length)};
}

}  // namespace

channel_binding tls_channel_binding(SSL* ssl, bool server_side) {
  if (!ssl || SSL_is_init_finished(ssl) != 1) return {};
  if (SSL_version(ssl) >= TLS1_3_VERSION) return exporter(ssl);
  return server_end_point(ssl, server_side);
}

}  // namespace iotxmpp
