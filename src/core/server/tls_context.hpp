#pragma once
// The server's TLS settings: a certificate chain and its key (PEM), loaded
// into an OpenSSL SSL_CTX with TLS 1.2 as the minimum, 1.3 preferred, and
// only forward-secret AEAD ciphers. Sessions take an SSL from it; a reload
// (SIGHUP) makes a new context that new sessions use while live sessions
// keep the one they started with (each SSL holds a reference to its CTX).
// OpenSSL stays out of this header.

#include <memory>
#include <mutex>
#include <string>

#include "core/base/error.hpp"

struct ssl_ctx_st;
struct ssl_st;

namespace iotxmpp {

struct tls_files {
  std::string cert;  // PEM: the leaf first, then its chain
  std::string key;   // PEM private key matching the leaf
};

class tls_context {
 public:
  // Loads both files; error_kind::usage with one line naming the file and
  // what is wrong with it (missing, unreadable, not PEM, key does not match,
  // certificate expired).
  static result<std::shared_ptr<tls_context>> load(const tls_files& files);
  ~tls_context();
  tls_context(const tls_context&) = delete;
  tls_context& operator=(const tls_context&) = delete;

  // A new server-side SSL (accept state), or null when OpenSSL is out of
  // memory. The caller owns it (SSL_free).
  ssl_st* new_ssl() const;
  const tls_files& files() const { return files_; }

 private:
  tls_context(ssl_ctx_st* ctx, tls_files files) : ctx_(ctx), files_(std::move(files)) {}
  ssl_ctx_st* ctx_;
  tls_files files_;
};

// The context new sessions use, replaceable from any thread (SIGHUP).
class tls_holder {
 public:
  explicit tls_holder(std::shared_ptr<tls_context> initial) : current_(std::move(initial)) {}
  std::shared_ptr<tls_context> current() const {
    std::lock_guard lock(mutex_);
    return current_;
  }
  // Loads the same files again; on failure the old context stays in use.
  result<void> reload();

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<tls_context> current_;
};

}  // namespace iotxmpp
