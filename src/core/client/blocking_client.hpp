#pragma once
// A client with its own io_context, driven from the calling thread: what the
// one-shot commands (send, query, tail) use. Each call runs the loop until
// its answer is in; pushed stanzas are handed to client::on_stanza handlers
// while any call runs the loop.

#include <chrono>
#include <functional>
#include <memory>
#include <string_view>

#include "core/client/client.hpp"

namespace iotxmpp {

class blocking_client {
 public:
  explicit blocking_client(client_options options);
  ~blocking_client();
  blocking_client(const blocking_client&) = delete;
  blocking_client& operator=(const blocking_client&) = delete;

  // Connects and binds, within options.connect_timeout (client::connect).
  result<void> connect();

  // Queues stanzas; when the write queue is full, runs the loop until there
  // is room (or the connection ends: that error).
  result<void> send(std::string_view stanzas);

  // Sends the IQ and waits for its reply (client::send_iq).
  result<xml_element> iq(xml_element request, std::chrono::milliseconds timeout);

  // Waits until the server has processed and committed everything sent
  // before. With stream management, until the server's h covers every
  // stanza sent (client::when_acked; PROTOCOL.md §3.5); without it, by a
  // ping, which the server answers only once everything sent before was
  // processed and committed (PROTOCOL.md §3.4).
  result<void> sync(std::chrono::milliseconds timeout);

  // Runs the handlers that are ready now, without waiting (so that queued
  // writes proceed while the caller does something slow, like reading stdin).
  void poll();

  // Why run_until returned.
  enum class stop_reason {
    done,         // the predicate held
    timeout,      // the time passed first
    interrupted,  // SIGINT or SIGTERM (after watch_interrupts())
    idle,         // nothing left that could make the predicate true
  };
  // Runs the loop until done() holds (checked before and after each
  // handler), `timeout` passes, an interrupt, or no work is left.
  stop_reason run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout);

  // From now on SIGINT and SIGTERM end run_until (and every call that runs
  // the loop fails with error_kind::io "interrupted") instead of killing the
  // process.
  void watch_interrupts();

  // Graceful close (client::close), waiting for it to finish.
  void close();

  // The asynchronous client, for handlers and keep_connected.
  client& async();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace iotxmpp
