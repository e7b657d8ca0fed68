#pragma once
// client::impl, the state behind client's pimpl, shared by the files that
// define its member functions. Private to src/core/client/client*.cpp: it
// brings asio and OpenSSL, which client.hpp keeps out of its includers.
//
//   client.cpp          reading, writing, ending, close, the public API
//   client_connect.cpp  connecting, TLS, negotiation steps
//   client_sm.cpp       stream management (XEP-0198) and resumption
//   client_timer.cpp    the timer (connect, close, reconnect, IQ and ack
//                       deadlines), IQ tracking, keep_connected

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/asio.hpp"
// After core/base/asio.hpp, which includes <utility> first (Boost 1.74).
#include <boost/asio/ssl.hpp>

#include "core/client/client.hpp"
#include "core/xml/stream_framer.hpp"
#include "core/xmpp/client_negotiation.hpp"
#include "core/xmpp/stanza.hpp"

namespace iotxmpp {

struct client::impl : std::enable_shared_from_this<impl> {
  using tcp = asio::ip::tcp;
  // TLS over the client's own socket, by reference: STARTTLS upgrades the
  // socket the stream began on.
  using tls_stream = asio::ssl::stream<tcp::socket&>;
  using steady = std::chrono::steady_clock;
  static constexpr auto never = steady::time_point::max();
  static constexpr auto longest_close_wait = std::chrono::seconds(2);

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
  std::shared_ptr<asio::ssl::context> tls_context_;
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

  // --- connecting and TLS (client_connect.cpp) ----------------------------

  void connect(connect_handler done);
  template <class Endpoints>
  void start_connect(const Endpoints& endpoints, std::uint64_t gen);
  void on_connected(boost::system::error_code ec);
  void start_tls();
  void on_handshake(boost::system::error_code ec);
  void connect_failed(error e);
  void apply(client_negotiation::step step);

  // --- stream management and resumption (client_sm.cpp) --------------------

  static std::uint32_t count_stanzas(std::string_view xml);
  void on_bound();
  void on_sm(pugi::xml_node element);
  void when_acked(std::chrono::milliseconds timeout, ack_handler done);
  void end_stream(stream_condition condition, std::string_view text, const xml_element* app,
                  error why);

  // --- reading, writing and ending (client.cpp) ---------------------------

  std::size_t read_some(asio::mutable_buffer into, boost::system::error_code& ec);
  void start_read();
  void on_readable(boost::system::error_code ec);
  void process(std::string_view data);
  void on_element(pugi::xml_node element);
  void write(std::string_view bytes);
  void start_write();
  void drop_connection();
  void ended(std::optional<error> why);
  void close();

  // --- the timer: connect, close, reconnect and IQ deadlines (client_timer.cpp)

  void after_loss(const error& e);
  void fail_pending(const error& e);
  steady::time_point earliest() const;
  void rearm();
  void on_timer();
};

}  // namespace iotxmpp
