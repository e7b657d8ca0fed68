#include "core/client/client.hpp"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <map>
#include <mutex>
#include <vector>

#include "core/base/asio.hpp"
// After core/base/asio.hpp, which includes <utility> first (Boost 1.74).
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <boost/asio/ssl.hpp>

#include "core/sasl/channel_binding.hpp"
#include "core/xml/stream_framer.hpp"
#include "core/xmpp/client_negotiation.hpp"
#include "core/xmpp/namespaces.hpp"
#include "core/xmpp/remote_error.hpp"
#include "core/xmpp/stanza.hpp"

namespace iotxmpp {
namespace {

using tcp = asio::ip::tcp;
namespace ssl = asio::ssl;
// TLS over the client's own socket, by reference: STARTTLS upgrades the
// socket the stream began on.
using tls_stream = ssl::stream<tcp::socket&>;
using steady = std::chrono::steady_clock;
constexpr auto never = steady::time_point::max();
constexpr auto longest_close_wait = std::chrono::seconds(2);

// One read buffer per thread for every client it runs: a client copies out
// only what the framer cannot finish yet, so an idle client holds none.
std::array<char, 64 * 1024>& thread_read_buffer() {
  thread_local std::array<char, 64 * 1024> buffer;
  return buffer;
}

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
    // Renegotiation would make the read path below write (see on_readable).
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

// Whether the start tag `tag` ("<name attr='v' ...>") declares
// xmlns='urn:xmpp:sm:3'.
bool in_sm_namespace(std::string_view tag) {
  for (std::string_view quote : {"'", "\""}) {
    std::string needle = "xmlns=" + std::string(quote) + std::string(ns::sm) + std::string(quote);
    auto at = tag.find(needle);
    if (at != std::string_view::npos && at > 0 &&
        (tag[at - 1] == ' ' || tag[at - 1] == '\t' || tag[at - 1] == '\n' || tag[at - 1] == '\r'))
      return true;
  }
  return false;
}

// The stanzas in `xml`, serialized top-level elements as send() gets them:
// elements at depth 0, not counting urn:xmpp:sm:3 ones (nonzas). Skips
// comments, CDATA and processing instructions; attribute values may hold
// '>' and '/' inside their quotes. Well-formedness is the caller's.
std::uint32_t count_stanzas(std::string_view xml) {
  std::uint32_t n = 0;
  int depth = 0;
  std::size_t i = 0;
  auto skip_past = [&](std::string_view end) {
    auto at = xml.find(end, i);
    i = at == std::string_view::npos ? xml.size() : at + end.size();
  };
  while ((i = xml.find('<', i)) != std::string_view::npos) {
    std::string_view rest = xml.substr(i);
    if (rest.starts_with("<!--")) {
      skip_past("-->");
    } else if (rest.starts_with("<![CDATA[")) {
      skip_past("]]>");
    } else if (rest.starts_with("<?") || rest.starts_with("<!")) {
      skip_past(">");
    } else if (rest.starts_with("</")) {
      skip_past(">");
      --depth;
    } else {
      // A start tag: find its end outside quoted attribute values.
      std::size_t j = i + 1;
      char quote = 0;
      for (; j < xml.size(); ++j) {
        char c = xml[j];
        if (quote) {
          if (c == quote) quote = 0;
        } else if (c == '\'' || c == '"') {
          quote = c;
        } else if (c == '>') {
          break;
        }
      }
      std::string_view tag = xml.substr(i, j - i + 1);
      bool empty = j > i + 1 && j < xml.size() && xml[j - 1] == '/';
      if (depth == 0 && !in_sm_namespace(tag)) ++n;
      if (!empty) ++depth;
      i = j + 1;
    }
  }
  return n;
}

std::string seconds_text(std::chrono::milliseconds d) {
  auto ms = d.count();
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

}  // namespace

struct client::impl : std::enable_shared_from_this<impl> {
  enum class state { idle, connecting, negotiating, bound, closing, waiting };

  struct pending_iq {
    std::string id;
    steady::time_point deadline;
    iq_handler done;
  };

  struct ack_waiter {
    std::uint32_t upto;  // covered once the server's h reaches this count
    steady::time_point deadline;
    ack_handler done;
  };

  // XEP-0198 on the bound connection, made only when the server enabled it
  // (a client without it pays one pointer). Counts wrap at 2^32.
  struct sm_state {
    std::uint32_t sent = 0;       // our stanzas since <enable/>
    std::uint32_t acked = 0;      // the server's last h
    std::uint32_t handled = 0;    // the server's stanzas we read
    std::uint32_t requested = 0;  // `sent` when our last <r/> went out
    std::vector<ack_waiter> waiting;
    sm_enabled enabled;  // the id and window, for resumption
    // Why we ended the stream ourselves (the server broke XEP-0198):
    // reported once the closing handshake is over.
    std::optional<error> ending;
  };

  impl(asio::io_context& io, client_options o)
      : io_(io), options_(std::move(o)), socket_(io), timer_(io), framer_(options_.limits) {}

  asio::io_context& io_;
  client_options options_;
  tcp::socket socket_;
  // TLS, made only when a connection uses it (a plain client pays two
  // pointers). Shared with every pending TLS operation: asio's ssl
  // operations use the stream until they complete, even after
  // drop_connection() dropped it.
  std::shared_ptr<ssl::context> tls_context_;
  std::shared_ptr<tls_stream> tls_;
  bool handshaking_ = false;  // no reads or writes of ours meanwhile
  asio::steady_timer timer_;
  std::unique_ptr<tcp::resolver> resolver_;  // only for host names, made on demand
  stream_framer framer_;
  std::optional<client_negotiation> negotiation_;
  jid address_;

  state state_ = state::idle;
  // Bumped whenever a connection ends: completions of an older one are stale.
  std::uint64_t generation_ = 0;
  std::uint64_t next_id_ = 0;

  std::string outbox_;
  std::string in_flight_;
  bool writing_ = false;

  std::vector<pending_iq> pending_;
  std::unique_ptr<sm_state> sm_;
  // A resumable stream whose connection was lost: the next connect() asks
  // to resume it (XEP-0198 §5) until `until`.
  struct resumable_stream {
    sm_enabled enabled;
    jid address;
    std::uint32_t handled = 0;  // the server's stanzas we read on it
    std::uint32_t sent = 0;     // ours, for resumed().unacknowledged
    steady::time_point until;
  };
  std::unique_ptr<resumable_stream> resumable_;
  std::optional<client::resumption> resumed_;  // how the last bind went
  connect_handler connect_done_;
  steady::time_point connect_deadline_ = never;
  steady::time_point close_deadline_ = never;
  steady::time_point reconnect_at_ = never;
  steady::time_point armed_at_ = never;

  stanza_handler on_stanza_;
  closed_handler on_closed_;

  bool keep_ = false;
  std::optional<backoff> backoff_;
  std::function<void()> on_up_;
  std::function<void(const error&)> on_down_;

  // --- connecting ---------------------------------------------------------

  void connect(connect_handler done) {
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
  void start_connect(const Endpoints& endpoints, std::uint64_t gen) {
    asio::async_connect(
        socket_, endpoints,
        [self = shared_from_this(), gen](boost::system::error_code ec, const tcp::endpoint&) {
          if (gen != self->generation_) return;
          self->on_connected(ec);
        });
  }

  void on_connected(boost::system::error_code ec) {
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

  // --- TLS ----------------------------------------------------------------

  // The handshake on the connected socket: at once for direct TLS, after
  // <proceed/> for STARTTLS. Verifies the certificate against the domain
  // unless tls_insecure.
  void start_tls() {
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

  void on_handshake(boost::system::error_code ec) {
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

  // Reads from the connection: through TLS when it is up. A TLS read needs
  // no buffer of ours beyond the shared one, but asio's ssl::stream keeps
  // its own per connection: two 17 KiB record buffers in the stream, and
  // two more in the BIO pair between it and OpenSSL (OpenSSL's own record
  // buffers are released while idle): about 70 KiB per TLS connection that a
  // plain one does not pay.
  std::size_t read_some(asio::mutable_buffer into, boost::system::error_code& ec) {
    return tls_ ? tls_->read_some(into, ec) : socket_.read_some(into, ec);
  }

  void on_bound() {
    sm_.reset();
    resumed_.reset();
    if (const auto& h = negotiation_->resumed(); h && resumable_) {
      // The old stream goes on: its JID and counts. The server handled our
      // stanzas up to h; those after it are the caller's to send again, and
      // count from h.
      resumed_ = client::resumption{*h, resumable_->sent - *h};
      address_ = resumable_->address;
      sm_ = std::make_unique<sm_state>();
      sm_->enabled = resumable_->enabled;
      sm_->handled = resumable_->handled;
      sm_->sent = sm_->acked = sm_->requested = *h;
    } else {
      address_ = negotiation_->bound_jid();
      if (const auto& sm = negotiation_->stream_management()) {
        sm_ = std::make_unique<sm_state>();
        sm_->enabled = *sm;
      }
    }
    resumable_.reset();
    negotiation_.reset();
    state_ = state::bound;
    connect_deadline_ = never;
    if (backoff_) backoff_->reset();
    if (auto done = std::exchange(connect_done_, nullptr)) done({});
    if (keep_ && state_ == state::bound && on_up_) on_up_();
  }

  // A connection attempt failed (before bind).
  void connect_failed(error e) {
    drop_connection();
    state_ = state::idle;
    connect_deadline_ = never;
    if (auto done = std::exchange(connect_done_, nullptr)) done(std::unexpected(e));
    after_loss(e);
  }

  // Schedules the next attempt when keep_connected is on.
  void after_loss(const error& e) {
    if (!keep_ || state_ != state::idle) return;
    if (on_down_) on_down_(e);
    if (!keep_ || state_ != state::idle) return;  // on_down may have closed or connected
    state_ = state::waiting;
    reconnect_at_ = steady::now() + backoff_->next();
    rearm();
  }

  // --- reading ------------------------------------------------------------

  void start_read() {
    socket_.async_wait(tcp::socket::wait_read, [self = shared_from_this(),
                                                gen = generation_](boost::system::error_code ec) {
      if (gen != self->generation_) return;
      self->on_readable(ec);
    });
  }

  // The socket is readable: read until it would block, a bounded amount per
  // turn. Over TLS the non-blocking socket makes ssl::stream::read_some
  // return would_block instead of waiting, so the shared buffer serves TLS
  // too. OpenSSL may hold decrypted data the socket no longer signals, so a
  // TLS connection waits for the socket only after a read said would_block.
  // (A synchronous TLS read could need to write only for renegotiation,
  // which the context refuses, or a TLS 1.3 key update the server asks for,
  // which iotxmpp's server never does.)
  void on_readable(boost::system::error_code ec) {
    auto gen = generation_;
    auto& buffer = thread_read_buffer();
    std::size_t taken = 0;
    while (!ec) {
      std::size_t n = read_some(asio::buffer(buffer), ec);
      if (ec == asio::error::would_block || ec == asio::error::try_again) {
        start_read();
        return;
      }
      if (ec) break;
      process(std::string_view(buffer.data(), n));
      if (gen != generation_) return;  // the connection ended while processing
      if (handshaking_) return;        // STARTTLS: the handshake reads now
      taken += n;
      if (!tls_ && n < buffer.size()) {
        start_read();
        return;
      }
      if (taken >= buffer.size()) {
        // Let the other clients of this thread have their turn.
        asio::post(io_, [self = shared_from_this(), gen] {
          if (gen == self->generation_) self->on_readable({});
        });
        return;
      }
    }
    bool end = ec == asio::error::eof || ec == ssl::error::stream_truncated;
    if (end && state_ == state::closing) {
      ended(std::nullopt);
      return;
    }
    ended(error{error_kind::connect,
                "connection to " + options_.server.to_string() +
                    " lost: " + (end ? std::string("closed by the server") : ec.message()),
                {}});
  }

  void process(std::string_view data) {
    auto gen = generation_;
    while (!data.empty() && gen == generation_) {
      if (handshaking_) {
        // After <proceed/> the server speaks TLS, and only after our
        // ClientHello: anything read with it is not TLS.
        connect_failed(error{error_kind::protocol, "the server sent data after <proceed/>", {}});
        return;
      }
      auto outcome = framer_.feed(data);
      data.remove_prefix(outcome.consumed);
      switch (outcome.what) {
        case stream_framer::status::need_more:
          break;
        case stream_framer::status::stream_open:
          if (negotiation_) apply(negotiation_->on_header(framer_.header()));
          break;
        case stream_framer::status::element:
          on_element(framer_.element());
          break;
        case stream_framer::status::stream_close:
          if (state_ == state::closing)
            ended(std::nullopt);
          else
            ended(error{error_kind::connect, "the server closed the stream", {}});
          return;
        case stream_framer::status::error:
          ended(error{error_kind::protocol,
                      "the server sent bad XML: " + std::string(framer_.error_text()),
                      std::string(to_string(framer_.error_condition()))});
          return;
      }
    }
  }

  void on_element(pugi::xml_node element) {
    std::string_view name = element.name();
    if (name == "stream:error" ||
        (local_name(element) == "error" && element.attribute("xmlns").value() == ns::stream)) {
      ended(stream_error_of(element));
      return;
    }
    if (negotiation_) {
      apply(negotiation_->on_element(element));
      return;
    }
    if (state_ != state::bound) return;  // closing: nobody listens any more
    if (element.attribute("xmlns").value() == ns::sm) {
      on_sm(element);
      return;
    }
    // Counted as read: the server's <r/> is answered with what we read
    // before it, and on_stanza handles a stanza during its call.
    if (sm_) ++sm_->handled;
    if (local_name(element) == "iq") {
      std::string_view type = element.attribute("type").value();
      if (type == "result" || type == "error") {
        std::string_view id = element.attribute("id").value();
        auto it =
            std::find_if(pending_.begin(), pending_.end(), [&](auto& p) { return p.id == id; });
        if (it != pending_.end()) {
          iq_handler done = std::move(it->done);
          pending_.erase(it);
          if (type == "result")
            done(xml_element::from(element));
          else
            done(std::unexpected(stanza_error_of(element)));
          return;
        }
      } else if (type == "get" || type == "set") {
        // RFC 6120 §8.2.3: every get/set gets an answer; we serve nothing.
        write(error_reply(element, stanza_condition::service_unavailable, {},
                          element.attribute("from").value())
                  .str());
        if (sm_) ++sm_->sent;
        return;
      }
    }
    if (on_stanza_) on_stanza_(element);
  }

  // --- stream management (XEP-0198) ---------------------------------------

  void on_sm(pugi::xml_node element) {
    if (!sm_) return;  // not enabled: nothing of ours to answer or count
    std::string_view name = local_name(element);
    if (name == "r") {
      write("<a xmlns='" + std::string(ns::sm) + "' h='" + std::to_string(sm_->handled) + "'/>");
      return;
    }
    if (name != "a") return;  // <enabled/> again, <failed/>: nothing to do
    const char* text = element.attribute("h").value();
    char* end = nullptr;
    unsigned long long h = std::strtoull(text, &end, 10);
    if (!*text || *end || h > 0xffffffffULL) {
      end_stream(stream_condition::bad_format, "<a/> without a valid h", nullptr,
                 error{error_kind::protocol, "the server sent <a/> without a valid h", {}});
      return;
    }
    auto acked = static_cast<std::uint32_t>(h);
    // Both counts wrap: compare the distances from the last ack.
    if (static_cast<std::uint32_t>(acked - sm_->acked) >
        static_cast<std::uint32_t>(sm_->sent - sm_->acked)) {
      xml_element app("handled-count-too-high");
      app.set("xmlns", ns::sm);
      app.set("h", std::to_string(acked));
      app.set("send-count", std::to_string(sm_->sent));
      end_stream(stream_condition::undefined_condition, {}, &app,
                 error{error_kind::protocol,
                       "the server acknowledged " + std::to_string(acked) + " stanzas of " +
                           std::to_string(sm_->sent) + " sent",
                       "handled-count-too-high"});
      return;
    }
    sm_->acked = acked;
    // Take the covered waiters out first: a handler may send, wait again or
    // close, which changes the list.
    std::vector<ack_waiter> covered;
    auto& waiting = sm_->waiting;
    auto is_covered = [&](const ack_waiter& w) {
      return static_cast<std::uint32_t>(sm_->sent - w.upto) >=
             static_cast<std::uint32_t>(sm_->sent - acked);
    };
    for (auto it = waiting.begin(); it != waiting.end();) {
      if (is_covered(*it)) {
        covered.push_back(std::move(*it));
        it = waiting.erase(it);
      } else {
        ++it;
      }
    }
    for (auto& w : covered) w.done({});
  }

  void when_acked(std::chrono::milliseconds timeout, ack_handler done) {
    auto later = [&](result<void> r) {
      asio::post(io_, [done = std::move(done), r = std::move(r)] { done(r); });
    };
    if (state_ != state::bound) return later(fail(error_kind::connect, "not connected"));
    if (!sm_)
      return later(fail(error_kind::usage, "stream management is not enabled on this connection"));
    if (sm_->acked == sm_->sent) return later({});
    sm_->waiting.push_back({sm_->sent, steady::now() + timeout, std::move(done)});
    if (sm_->requested != sm_->sent) {
      // An <r/> already out covers only what was sent before it.
      sm_->requested = sm_->sent;
      write("<r xmlns='" + std::string(ns::sm) + "'/>");
    }
    rearm();
  }

  // Ends the stream ourselves: sends the stream error, fails what waits,
  // and reports `why` once the server closed too (or the close wait passed).
  void end_stream(stream_condition condition, std::string_view text, const xml_element* app,
                  error why) {
    state_ = state::closing;
    sm_->ending = why;
    write(stream_error(condition, text, app));
    close_deadline_ = steady::now() + std::min<std::chrono::milliseconds>(options_.connect_timeout,
                                                                          longest_close_wait);
    fail_pending(why);
    rearm();
  }

  void apply(client_negotiation::step step) {
    if (step.failure) {
      connect_failed(std::move(*step.failure));
      return;
    }
    if (step.restart) framer_.reset();
    if (step.start_tls) start_tls();
    if (!step.send.empty()) write(step.send);
    if (step.bound) on_bound();
  }

  // --- writing ------------------------------------------------------------

  void write(std::string_view bytes) {
    outbox_.append(bytes);
    if (!writing_) start_write();
  }

  void start_write() {
    if (outbox_.empty() || writing_ || handshaking_) return;
    writing_ = true;
    in_flight_.swap(outbox_);
    auto on_written = [self = shared_from_this(), gen = generation_, stream = tls_](
                          boost::system::error_code ec, std::size_t) {
      if (gen != self->generation_) return;
      self->writing_ = false;
      self->in_flight_.clear();
      // Keep idle clients small: drop a buffer a burst grew.
      if (self->in_flight_.capacity() > 4096) std::string().swap(self->in_flight_);
      if (self->outbox_.empty() && self->outbox_.capacity() > 4096)
        std::string().swap(self->outbox_);
      // A failed write ends nothing by itself: the read side
      // then sees the server's stream error (if any) and the
      // end, which say more than EPIPE does.
      if (ec) {
        boost::system::error_code ignored;
        self->socket_.shutdown(tcp::socket::shutdown_send, ignored);
        return;
      }
      self->start_write();
    };
    if (tls_)
      asio::async_write(*tls_, asio::buffer(in_flight_), std::move(on_written));
    else
      asio::async_write(socket_, asio::buffer(in_flight_), std::move(on_written));
  }

  // --- ending -------------------------------------------------------------

  // Closes the socket and makes every outstanding completion stale.
  void drop_connection() {
    ++generation_;
    boost::system::error_code ec;
    socket_.close(ec);
    if (resolver_) resolver_->cancel();
    outbox_.clear();
    in_flight_.clear();
    writing_ = false;
    negotiation_.reset();
    // Pending TLS operations keep the stream until they complete (stale).
    // No close_notify: the XMPP stream was closed (or is being given up),
    // and a peer that waits for one gets the TCP FIN instead.
    tls_.reset();
    handshaking_ = false;
  }

  // The connection ended: cleanly (nullopt) or for a reason.
  void ended(std::optional<error> why) {
    if (state_ == state::connecting || state_ == state::negotiating) {
      connect_failed(why ? *why : error{error_kind::connect, "the server closed the stream", {}});
      return;
    }
    if (state_ != state::bound && state_ != state::closing) return;
    if (sm_ && sm_->ending) why = std::move(sm_->ending);
    if (why && sm_ && sm_->enabled.resume && state_ == state::bound &&
        why->kind == error_kind::connect) {
      // Lost, not ended by either side: the server keeps the stream for
      // its window (XEP-0198 §5), so the next connection asks for it.
      auto r = std::make_unique<resumable_stream>();
      r->enabled = sm_->enabled;
      r->address = address_;
      r->handled = sm_->handled;
      r->sent = sm_->sent;
      const auto window =
          std::chrono::seconds(sm_->enabled.max_seconds ? sm_->enabled.max_seconds : 60);
      r->until = steady::now() + window;
      resumable_ = std::move(r);
    }
    drop_connection();
    state_ = state::idle;
    close_deadline_ = never;
    error lost = why ? *why : error{error_kind::connect, "connection closed", {}};
    fail_pending(lost);
    sm_.reset();
    if (on_closed_) on_closed_(why);
    if (why) after_loss(*why);
  }

  // Fails every IQ and ack that waits.
  void fail_pending(const error& e) {
    auto pending = std::move(pending_);
    pending_.clear();
    std::vector<ack_waiter> waiting;
    if (sm_) waiting = std::exchange(sm_->waiting, {});
    for (auto& p : pending) p.done(std::unexpected(e));
    for (auto& w : waiting) w.done(std::unexpected(e));
  }

  void close() {
    keep_ = false;
    resumable_.reset();  // a closed stream is not resumed
    switch (state_) {
      case state::idle:
        return;
      case state::waiting:
        state_ = state::idle;
        reconnect_at_ = never;
        return;
      case state::connecting:
      case state::negotiating:
        connect_failed(error{error_kind::connect, "connection abandoned by close()", {}});
        return;
      case state::bound:
        state_ = state::closing;
        write("</stream:stream>");
        close_deadline_ = steady::now() + std::min<std::chrono::milliseconds>(
                                              options_.connect_timeout, longest_close_wait);
        fail_pending(error{error_kind::connect, "the client closed the connection", {}});
        rearm();
        return;
      case state::closing:
        return;
    }
  }

  // --- the timer: connect, close, reconnect and IQ deadlines ---------------

  steady::time_point earliest() const {
    steady::time_point t = never;
    if (state_ == state::connecting || state_ == state::negotiating)
      t = std::min(t, connect_deadline_);
    if (state_ == state::closing) t = std::min(t, close_deadline_);
    if (state_ == state::waiting) t = std::min(t, reconnect_at_);
    for (const auto& p : pending_) t = std::min(t, p.deadline);
    if (sm_)
      for (const auto& w : sm_->waiting) t = std::min(t, w.deadline);
    return t;
  }

  void rearm() {
    auto t = earliest();
    // Re-arm only when something is due sooner: moving a timer cancels its
    // wait, which costs a completion, and most IQs finish long before.
    if (t == never || t >= armed_at_) return;
    armed_at_ = t;
    timer_.expires_at(t);
    timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (ec == asio::error::operation_aborted) return;
      self->armed_at_ = never;
      self->on_timer();
    });
  }

  void on_timer() {
    auto now = steady::now();
    if ((state_ == state::connecting || state_ == state::negotiating) && now >= connect_deadline_) {
      connect_failed(error{error_kind::timeout,
                           "no connection to " + options_.server.to_string() + " within " +
                               seconds_text(options_.connect_timeout),
                           {}});
    } else if (state_ == state::closing && now >= close_deadline_) {
      ended(std::nullopt);
    } else if (state_ == state::waiting && now >= reconnect_at_) {
      connect(nullptr);
    }
    for (std::size_t i = 0; i < pending_.size();) {
      if (pending_[i].deadline > now) {
        ++i;
        continue;
      }
      pending_iq expired = std::move(pending_[i]);
      pending_.erase(pending_.begin() + static_cast<std::ptrdiff_t>(i));
      expired.done(
          fail(error_kind::timeout, "no reply to IQ '" + expired.id + "' within the timeout"));
      i = 0;  // the handler may have changed the list
    }
    for (std::size_t i = 0; sm_ && i < sm_->waiting.size();) {
      if (sm_->waiting[i].deadline > now) {
        ++i;
        continue;
      }
      ack_waiter expired = std::move(sm_->waiting[i]);
      sm_->waiting.erase(sm_->waiting.begin() + static_cast<std::ptrdiff_t>(i));
      expired.done(
          fail(error_kind::timeout, "no acknowledgement from the server within the timeout"));
      i = 0;  // the handler may have changed the list
    }
    rearm();
  }
};

client::client(asio::io_context& io, client_options options)
    : impl_(std::make_shared<impl>(io, std::move(options))) {}

client::~client() {
  // Outstanding completions hold the impl; make them stale and drop handlers
  // so nothing runs after this returns.
  impl_->keep_ = false;
  impl_->on_stanza_ = nullptr;
  impl_->on_closed_ = nullptr;
  impl_->on_up_ = nullptr;
  impl_->on_down_ = nullptr;
  impl_->connect_done_ = nullptr;
  impl_->pending_.clear();
  impl_->sm_.reset();
  impl_->drop_connection();
  impl_->state_ = impl::state::idle;
  impl_->timer_.cancel();
}

void client::connect(connect_handler done) { impl_->connect(std::move(done)); }

bool client::bound() const { return impl_->state_ == impl::state::bound; }

bool client::active() const {
  auto s = impl_->state_;
  return s != impl::state::idle && s != impl::state::waiting;
}

const jid& client::address() const { return impl_->address_; }

const client_options& client::options() const { return impl_->options_; }

result<void> client::send(std::string_view stanzas) {
  auto& i = *impl_;
  if (i.state_ != impl::state::bound) return fail(error_kind::connect, "not connected");
  if (i.outbox_.size() + i.in_flight_.size() + stanzas.size() > i.options_.max_queued_bytes)
    return fail(error_kind::io, "write queue full", "resource-constraint");
  i.write(stanzas);
  if (i.sm_) i.sm_->sent += count_stanzas(stanzas);
  return {};
}

bool client::stream_management() const { return impl_->state_ == impl::state::bound && impl_->sm_; }

const std::optional<client::resumption>& client::resumed() const { return impl_->resumed_; }

std::optional<client::sm_counts> client::stream_counts() const {
  const auto& sm = impl_->sm_;
  if (!sm || impl_->state_ != impl::state::bound) return std::nullopt;
  return sm_counts{sm->sent, sm->acked, sm->handled};
}

void client::when_acked(std::chrono::milliseconds timeout, ack_handler done) {
  impl_->when_acked(timeout, std::move(done));
}

std::size_t client::queued_bytes() const {
  return impl_->outbox_.size() + impl_->in_flight_.size();
}

std::string client::next_id() { return "c" + std::to_string(++impl_->next_id_); }

void client::send_iq(xml_element request, std::chrono::milliseconds timeout, iq_handler done) {
  auto& i = *impl_;
  if (request.get("id").empty()) request.set("id", next_id());
  std::string id(request.get("id"));
  auto sent = send(request.str());
  if (!sent) {
    asio::post(i.io_, [done = std::move(done), e = sent.error()] { done(std::unexpected(e)); });
    return;
  }
  i.pending_.push_back({std::move(id), steady::now() + timeout, std::move(done)});
  i.rearm();
}

void client::on_stanza(stanza_handler handler) { impl_->on_stanza_ = std::move(handler); }

void client::on_closed(closed_handler handler) { impl_->on_closed_ = std::move(handler); }

void client::keep_connected(backoff_policy policy, std::function<void()> on_up,
                            std::function<void(const error&)> on_down) {
  auto& i = *impl_;
  i.keep_ = true;
  i.backoff_.emplace(policy);
  i.on_up_ = std::move(on_up);
  i.on_down_ = std::move(on_down);
  if (i.state_ == impl::state::bound && i.on_up_)
    i.on_up_();
  else if (i.state_ == impl::state::idle)
    i.connect(nullptr);
}

void client::close() { impl_->close(); }

}  // namespace iotxmpp
