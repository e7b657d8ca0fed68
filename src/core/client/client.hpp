#pragma once
// The XMPP client every client subcommand uses (PROTOCOL.md from the
// device's side): connect with a timeout, negotiate (TLS, SASL), bind,
// send stanzas, await IQ replies by id, receive pushed stanzas, close
// gracefully, and reconnect with back-off; with XEP-0198 stream management
// when the server offers it (counts, acks and resumption). Asynchronous on a caller's
// io_context, so thousands of clients share one thread: no thread per
// client, one write in flight and a bounded queue, one timer each, and a
// read buffer shared by all clients of a thread. Asio stays behind the pimpl.
// blocking_client.hpp wraps it for one-shot commands.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <pugixml.hpp>

#include "core/base/backoff.hpp"
#include "core/base/error.hpp"
#include "core/client/server_address.hpp"
#include "core/xml/framer_limits.hpp"
#include "core/xml/xml_element.hpp"
#include "core/xmpp/jid.hpp"

namespace boost::asio {
class io_context;
}

namespace iotxmpp {

struct client_options {
  server_address server;
  std::string domain = "iot.local";  // the stream header's `to`, and the name TLS verifies
  std::string resource;              // asked for at bind; empty: the server makes one

  // The account to log in as (SCRAM, or PLAIN over TLS); empty: SASL
  // ANONYMOUS. The password is kept for reconnects; it is never logged.
  std::string user;
  std::string password;

  enum class tls_mode {
    starttls_if_offered,  // upgrade whenever the server offers STARTTLS, else plain text
    starttls_required,    // fail when the server offers no STARTTLS
    direct,               // TLS from the first byte (XEP-0368), usually port 5223
  };
  tls_mode tls = tls_mode::starttls_if_offered;
  // PEM file of the CAs that may sign the server's certificate; empty: the
  // system's store. The certificate must name `domain`.
  std::string tls_ca;
  // Accept any certificate, for labs: the connection is encrypted but the
  // server is not authenticated (a man in the middle goes unnoticed).
  bool tls_insecure = false;
  // Let PLAIN send the password without TLS when the server offers nothing
  // better (a lab on a trusted network).
  bool allow_plain_over_plaintext = false;
  // Enable XEP-0198 stream management (with resume='true') after bind when
  // the server offers it, so that when_acked() can tell what the server
  // handled. Off: the stream never has it.
  bool stream_management = true;

  // From the start of connect() until bound: name resolution, TCP connect
  // and negotiation together.
  std::chrono::milliseconds connect_timeout{5000};
  // Bytes waiting to be written, beyond which send() refuses.
  std::size_t max_queued_bytes = 256 * 1024;
  // Limits on what the server sends (feed stanzas carry a device's stanza
  // plus addresses, so more than the server's own 64 KiB intake).
  framer_limits limits{256 * 1024, 64};
};

// Not thread-safe: call it from the thread that runs its io_context (or
// while that io_context is not running). Handlers run on that thread.
// Handlers should not own the client (capture a raw or weak pointer): the
// client keeps them until it is destroyed.
class client {
 public:
  using connect_handler = std::function<void(const result<void>&)>;
  using iq_handler = std::function<void(result<xml_element>)>;
  using stanza_handler = std::function<void(pugi::xml_node)>;
  using closed_handler = std::function<void(const std::optional<error>&)>;
  using ack_handler = std::function<void(result<void>)>;

  client(boost::asio::io_context& io, client_options options);
  // Drops the connection at once (no closing handshake); no handler is
  // called after this returns.
  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  // Connects, negotiates and binds; `done` gets ok once bound, or the error:
  // connect (refused, unreachable, unknown host, lost during negotiation, a
  // TLS handshake or certificate check that failed), timeout
  // (connect_timeout passed), remote (a stream error or a refused auth/bind:
  // the condition is set; or the server lacks what the options require, like
  // STARTTLS), usage (the tls_ca file cannot be loaded) or protocol. Called
  // again after the
  // connection ended, it reconnects (same options, a fresh stream). While a
  // connection is up or being made, `done` gets error_kind::internal.
  void connect(connect_handler done);

  // True between bind and the end of that connection.
  bool bound() const;
  // True while a connection is being made, is up, or is closing.
  bool active() const;
  // The full JID of the current (or last) binding; empty before the first.
  const jid& address() const;
  const client_options& options() const;

  // Queues one or more serialized stanzas, written in order. Fails (nothing
  // queued) when not bound (connect) or when the queue would pass
  // max_queued_bytes (io, condition "resource-constraint"). With stream
  // management, each top-level element counts as one stanza sent, except
  // the urn:xmpp:sm:3 ones (the server does not count those either).
  result<void> send(std::string_view stanzas);
  // Bytes queued or being written.
  std::size_t queued_bytes() const;

  // A stanza id unique within this client's life ("c1", "c2", ...).
  std::string next_id();

  // Sends `request` (an <iq type='get|set'>; an `id` is added when it has
  // none) and calls `done` once: with the reply's copy when it is
  // type='result', or the error: remote with the stanza error's condition
  // (type='error'), timeout when no reply came within `timeout`, connect when
  // the connection ended first or was not up. Never called synchronously.
  void send_iq(xml_element request, std::chrono::milliseconds timeout, iq_handler done);

  // True while bound with XEP-0198 stream management enabled on this
  // connection (the server offered it and options().stream_management).
  bool stream_management() const;
  // Stream management's counts on this connection (nullopt without it):
  // stanzas sent since <enable/>, how many of them the server's last
  // <a h/> acknowledged, and the server's stanzas handled here (each
  // counted as it is read, before on_stanza sees it; the <a h/> that
  // answers the server's <r/> carries it at once). All wrap at 2^32.
  struct sm_counts {
    std::uint32_t sent = 0;
    std::uint32_t acked = 0;
    std::uint32_t handled = 0;
  };
  std::optional<sm_counts> stream_counts() const;

  // XEP-0198 resumption: after a connection with a resumable stream was
  // lost (not closed), the next connect() resumes it in place of bind when
  // the server still has it (its window), else binds afresh. After a
  // resumed bind: the same address(), counts going on, the stanzas the
  // server had not acknowledged sent again by the server; `handled` is the
  // server's h (our stanzas it handled: for status reports, stored), and
  // `unacknowledged` how many of ours after it the caller should send
  // again (they count from h). nullopt when the last bind was fresh.
  struct resumption {
    std::uint32_t handled = 0;
    std::uint32_t unacknowledged = 0;
  };
  const std::optional<resumption>& resumed() const;

  // Calls `done` once the server's h covers every stanza sent (queued by
  // send or send_iq) before this call, asking for it with <r/> unless a
  // request covering them is out already. The server's h counts a status
  // report only once it is committed (PROTOCOL.md §3.5), so ok means
  // stored. Errors: usage when stream management is not enabled, connect
  // when not bound, timeout when no covering <a/> came within `timeout`,
  // and the connection's error (as on_closed gets it) when it ended first.
  // Never called synchronously.
  void when_acked(std::chrono::milliseconds timeout, ack_handler done);

  // Called for each stanza the server pushes (messages, presence, and IQ
  // replies nobody waits for). The node is valid during the call only.
  void on_stanza(stanza_handler handler);
  // Called when a bound connection ends: nullopt after close() completed,
  // else why (remote with the stream error's condition, connect when the
  // connection was lost, protocol when the server sent bad XML). Not called
  // for connect() failures: `done` gets those.
  void on_closed(closed_handler handler);

  // Keeps the client connected: connects now when idle; after each failed
  // attempt or lost connection (not after close()) waits backoff().next()
  // and connects again. `on_up` runs after each bind (at once when already
  // bound): (re)subscribe there. `on_down` runs after each loss or failed
  // attempt with its reason. Either may be empty. close() ends it.
  void keep_connected(backoff_policy policy, std::function<void()> on_up,
                      std::function<void(const error&)> on_down);

  // Graceful close: stops keep_connected, sends </stream:stream> and waits
  // (at most connect_timeout, 2 s at most) for the server's end before
  // closing the socket; then on_closed(nullopt). Pending IQs fail with
  // connect. A connection being made is abandoned (its `done` gets connect).
  void close();

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace iotxmpp
