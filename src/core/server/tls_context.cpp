#include "core/server/tls_context.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cstdio>
#include <fstream>

namespace iotxmpp {
namespace {

// The first error on OpenSSL's queue, in its words, and the queue cleared.
std::string openssl_reason() {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "unknown OpenSSL error";
  const char* reason = ERR_reason_error_string(e);
  return reason ? reason : "OpenSSL error " + std::to_string(e);
}

std::unexpected<error> bad(const std::string& what, const std::string& path,
                           const std::string& why) {
  return fail(error_kind::usage, what + " " + path + ": " + why);
}

// TLS 1.2 suites with forward secrecy and AEAD only; TLS 1.3 keeps
// OpenSSL's default suites (all AEAD).
constexpr const char* tls12_ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

}  // namespace

result<std::shared_ptr<tls_context>> tls_context::load(const tls_files& files) {
  for (const auto& [what, path] :
       {std::pair{"--tls-cert", &files.cert}, {"--tls-key", &files.key}}) {
    if (path->empty()) return fail(error_kind::usage, std::string(what) + " is empty");
    if (!std::ifstream(*path)) return bad(what, *path, "cannot be read (missing or no permission)");
  }
  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (!ctx) return fail(error_kind::internal, "SSL_CTX_new failed: " + openssl_reason());
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> owned(ctx, SSL_CTX_free);
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_cipher_list(ctx, tls12_ciphers);
  // No renegotiation, no compression, no session tickets kept per session:
  // an idle session should hold as little as possible.
  SSL_CTX_set_options(
      ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  // Free the 16 KiB read and write buffers whenever they are empty: an idle
  // TLS session then keeps only its SSL object (bench/README.md has bytes
  // per idle session). Partial writes let a write resume where the socket
  // stopped taking bytes.
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                            SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_num_tickets(ctx, 0);
  if (SSL_CTX_use_certificate_chain_file(ctx, files.cert.c_str()) != 1)
    return bad("--tls-cert", files.cert, "not a PEM certificate chain (" + openssl_reason() + ")");
  if (SSL_CTX_use_PrivateKey_file(ctx, files.key.c_str(), SSL_FILETYPE_PEM) != 1) {
    const unsigned long e = ERR_peek_last_error();
    if (ERR_GET_LIB(e) == ERR_LIB_X509 && (ERR_GET_REASON(e) == X509_R_KEY_VALUES_MISMATCH ||
                                           ERR_GET_REASON(e) == X509_R_KEY_TYPE_MISMATCH)) {
      ERR_clear_error();
      return bad("--tls-key", files.key, "does not match the certificate in " + files.cert);
    }
    return bad("--tls-key", files.key, "not a PEM private key (" + openssl_reason() + ")");
  }
  if (SSL_CTX_check_private_key(ctx) != 1)
    return bad("--tls-key", files.key, "does not match the certificate in " + files.cert);
  X509* leaf = SSL_CTX_get0_certificate(ctx);
  if (leaf && X509_cmp_current_time(X509_get0_notAfter(leaf)) < 0)
    return bad("--tls-cert", files.cert, "the certificate has expired");
  return std::shared_ptr<tls_context>(new tls_context(owned.release(), files));
}

tls_context::~tls_context() { SSL_CTX_free(ctx_); }

ssl_st* tls_context::new_ssl() const {
  SSL* ssl = SSL_new(ctx_);
  if (ssl) SSL_set_accept_state(ssl);
  return ssl;
}

result<void> tls_holder::reload() {
  std::shared_ptr<tls_context> now = current();
  auto fresh = tls_context::load(now->files());
  if (!fresh) return std::unexpected(fresh.error());
  std::lock_guard lock(mutex_);
  current_ = std::move(*fresh);
  return {};
}

}  // namespace iotxmpp
