// client::impl: connecting, TLS and the negotiation's steps (see
// client_impl.hpp for how the client's files divide the work).
#include <map>
#include <mutex>

#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include "core/client/client_impl.hpp"

#include "core/sasl/channel_binding.hpp"

namespace iotxmpp {
namespace {

namespace ssl = asio::ssl;

// The TLS context for these options, shared by every client of the process
// with the same CA file and verification: a context holds the loaded trust
// store (hundreds of KiB for the system's), which 10,000 simulated devices
// must not load each. Thread-safe (simulate runs clients on several threads;
// OpenSSL allows SSL objects of one context on any thread).
result<std::shared_ptr<ssl::context>> shared_tls_context(const client_options& o) {
  static std::mutex mutex;
  static std::map<std::pair<std::string, bool>, std::weak_ptr<ssl::context>> contexts;
  std::lock_guard lock(mutex);
  auto& slot = contexts[{o.tls_ca, o.tls_insecure}];
  if (auto found = slot.lock()) return found;
  try {
    auto context = std::make_shared<ssl::context>(ssl::context::tls_client);
    SSL_CTX* native = context->native_handle();
    SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
    // Renegotiation would make the read path write (see on_readable, client.cpp).
    SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION);
    boost::system::error_code ec;
    if (o.tls_insecure) {
      context->set_verify_mode(ssl::verify_none);
    } else {
      context->set_verify_mode(ssl::verify_peer);
      if (o.tls_ca.empty())
        context->set_default_verify_paths(ec);
      else
        context->load_verify_file(o.tls_ca, ec);
      if (ec)
        return fail(error_kind::usage,
                    "cannot load the CA certificates" +
                        (o.tls_ca.empty() ? std::string() : " from " + o.tls_ca) + ": " +
                        ec.message());
    }
    slot = context;
    return context;
  } catch (const boost::system::system_error& e) {
    return fail(error_kind::internal, std::string("cannot make a TLS context: ") + e.what());
  }
}

// Why a handshake failed, in words: the certificate check's reason when that
// was it, else the TLS error.
std::string handshake_problem(SSL* ssl, const boost::system::error_code& ec) {
  long verified = SSL_get_verify_result(ssl);
  if (verified != X509_V_OK)
    return std::string("certificate verify failed: ") + X509_verify_cert_error_string(verified);
  if (ec == asio::error::eof || ec == ssl::error::stream_truncated)
    return "the server closed the connection";
  return ec.message();
}

}  // namespace

// --- connecting -----------------------------------------------------------

void client::impl::connect(connect_handler done) {
  if (state_ != state::idle && state_ != state::waiting) {
    if (done)
      asio::post(io_,
                 [done] { done(fail(error_kind::internal, "already connected or connecting")); });
    return;
  }
  connect_done_ = std::move(done);
  state_ = state::connecting;
  reconnect_at_ = never;
  connect_deadline_ = steady::now() + options_.connect_timeout;
  rearm();
  auto gen = generation_;
  boost::system::error_code ec;
  auto literal = asio::ip::make_address(options_.server.host, ec);
  if (!ec) {
    std::array endpoints{tcp::endpoint(literal, options_.server.port)};
    start_connect(endpoints, gen);
    return;
  }
  if (!resolver_) resolver_ = std::make_unique<tcp::resolver>(io_);
  resolver_->async_resolve(
      options_.server.host, std::to_string(options_.server.port),
      [self = shared_from_this(), gen](boost::system::error_code ec,
                                       tcp::resolver::results_type found) {
        if (gen != self->generation_) return;
        if (ec) {
          self->connect_failed(
              error{error_kind::connect,
                    "cannot resolve " + self->options_.server.host + ": " + ec.message(),
                    {}});
          return;
        }
        self->start_connect(found, gen);
      });
}

template <class Endpoints>
void client::impl::start_connect(const Endpoints& endpoints, std::uint64_t gen) {
  asio::async_connect(
      socket_, endpoints,
      [self = shared_from_this(), gen](boost::system::error_code ec, const tcp::endpoint&) {
        if (gen != self->generation_) return;
        self->on_connected(ec);
      });
}

void client::impl::on_connected(boost::system::error_code ec) {
  if (ec) {
    connect_failed(error{error_kind::connect,
                         "cannot connect to " + options_.server.to_string() + ": " + ec.message(),
                         {}});
    return;
  }
  socket_.non_blocking(true, ec);
  socket_.set_option(tcp::no_delay(true), ec);
  state_ = state::negotiating;
  framer_.reset();
  client_login login;
  login.domain = options_.domain;
  login.resource = options_.resource;
  login.user = options_.user;
  login.password = options_.password;
  login.tls_required =
      options_.tls != client_options::tls_mode::starttls_if_offered || !options_.tls_ca.empty();
  login.allow_plain_over_plaintext = options_.allow_plain_over_plaintext;
  login.stream_management = options_.stream_management;
  if (resumable_ && steady::now() >= resumable_->until) resumable_.reset();
  if (resumable_) {
    login.resume_previd = resumable_->enabled.id;
    login.resume_handled = resumable_->handled;
  }
  negotiation_.emplace(std::move(login));
  if (options_.tls == client_options::tls_mode::direct) {
    start_tls();
    return;
  }
  write(negotiation_->opening());
  start_read();
}

// --- TLS ------------------------------------------------------------------

// The handshake on the connected socket: at once for direct TLS, after
// <proceed/> for STARTTLS. Verifies the certificate against the domain
// unless tls_insecure.
void client::impl::start_tls() {
  if (!tls_context_) {
    auto context = shared_tls_context(options_);
    if (!context) {
      connect_failed(context.error());
      return;
    }
    tls_context_ = std::move(*context);
  }
  tls_ = std::make_shared<tls_stream>(socket_, *tls_context_);
  SSL* native = tls_->native_handle();
  boost::system::error_code not_ip;
  asio::ip::make_address(options_.domain, not_ip);
  // SNI carries host names only (RFC 6066 §3); an IP literal is checked
  // against the certificate's IP addresses instead.
  if (not_ip) SSL_set_tlsext_host_name(native, options_.domain.c_str());
  if (!options_.tls_insecure) {
    X509_VERIFY_PARAM* param = SSL_get0_param(native);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (not_ip)
      SSL_set1_host(native, options_.domain.c_str());
    else
      X509_VERIFY_PARAM_set1_ip_asc(param, options_.domain.c_str());
  }
  handshaking_ = true;
  tls_->async_handshake(ssl::stream_base::client, [self = shared_from_this(), gen = generation_,
                                                   stream = tls_](boost::system::error_code ec) {
    if (gen != self->generation_) return;
    self->on_handshake(ec);
  });
}

void client::impl::on_handshake(boost::system::error_code ec) {
  handshaking_ = false;
  if (ec) {
    connect_failed(error{error_kind::connect,
                         "TLS with " + options_.server.to_string() +
                             " failed: " + handshake_problem(tls_->native_handle(), ec),
                         {}});
    return;
  }
  apply(negotiation_->tls_established(tls_channel_binding(tls_->native_handle(), false)));
  start_write();
  start_read();
}

// --- negotiation ----------------------------------------------------------

void client::impl::apply(client_negotiation::step step) {
  if (step.failure) {
    connect_failed(std::move(*step.failure));
    return;
  }
  if (step.restart) framer_.reset();
  if (step.start_tls) start_tls();
  if (!step.send.empty()) write(step.send);
  if (step.bound) on_bound();
}

// A connection attempt failed (before bind).
void client::impl::connect_failed(error e) {
  drop_connection();
  state_ = state::idle;
  connect_deadline_ = never;
  if (auto done = std::exchange(connect_done_, nullptr)) done(std::unexpected(e));
  after_loss(e);
}

}  // namespace iotxmpp
