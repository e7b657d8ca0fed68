#pragma once
// A bound client session as the rest of the server sees it: something with
// an address that bytes can be delivered to and that can be closed. The asio
// session implements it; tests implement it with a recorder.

#include <string>

#include "core/xml/conditions.hpp"
#include "core/xmpp/jid.hpp"

namespace iotxmpp {

class peer {
 public:
  virtual ~peer() = default;
  // The bound full JID. Fixed for the peer's life.
  virtual const jid& address() const = 0;
  // Queues serialized stanzas for this peer. Thread-safe, never blocks. A
  // peer whose queue is over its limit is closed with policy-violation and
  // the bytes are dropped: delivery to a slow reader never slows the caller.
  virtual void deliver(std::string bytes) = 0;
  // Ends the peer's stream with this error. Thread-safe, idempotent.
  virtual void close(stream_condition condition, std::string text) = 0;
};

}  // namespace iotxmpp
