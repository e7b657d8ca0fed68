#include "core/sasl/channel_binding.hpp"

#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

namespace iotxmpp {
namespace {

// RFC 5929 §4.1: the certificate's hash with its signature's hash
// algorithm, SHA-256 when that is MD5 or SHA-1.
std::string end_point_hash(X509* cert) {
  int md_nid = NID_undef;
  if (X509_get_signature_info(cert, &md_nid, nullptr, nullptr, nullptr) != 1) md_nid = NID_undef;
  const EVP_MD* md = nullptr;
  if (md_nid == NID_md5 || md_nid == NID_sha1 || md_nid == NID_undef)
    md = EVP_sha256();
  else
    md = EVP_get_digestbynid(md_nid);
  if (!md) md = EVP_sha256();
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (X509_digest(cert, md, out, &n) != 1) return {};
  return std::string(reinterpret_cast<const char*>(out), n);
}

}  // namespace

channel_binding tls_channel_binding(ssl_st* ssl, bool server_side) {
  channel_binding out;
  if (!ssl || !SSL_is_init_finished(ssl)) return out;
  if (SSL_version(ssl) >= TLS1_3_VERSION) {
    static constexpr char label[] = "EXPORTER-Channel-Binding";
    std::string data(32, '\0');
    if (SSL_export_keying_material(ssl, reinterpret_cast<unsigned char*>(data.data()), data.size(),
                                   label, sizeof label - 1, nullptr, 0, 0) == 1) {
      out.type = "tls-exporter";
      out.data = std::move(data);
    }
    return out;
  }
  X509* cert = server_side ? SSL_get_certificate(ssl) : SSL_get0_peer_certificate(ssl);
  if (!cert) return out;
  std::string hash = end_point_hash(cert);
  if (hash.empty()) return out;
  out.type = "tls-server-end-point";
  out.data = std::move(hash);
  return out;
}

}  // namespace iotxmpp
