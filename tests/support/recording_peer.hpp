#pragma once
// A peer (a registry or feed entry) without a connection: it records what
// is delivered to it and how it was closed.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/server/peer.hpp"

namespace iotxmpp::test {

class recording_peer : public peer {
 public:
  explicit recording_peer(std::string jid) : jid_(*jid::parse(jid)) {}
  const jid& address() const override { return jid_; }
  void deliver(std::string bytes) override { delivered.push_back(std::move(bytes)); }
  void close(stream_condition c, std::string) override { closed = c; }
  std::vector<std::string> delivered;
  std::optional<stream_condition> closed;

 private:
  jid jid_;
};

}  // namespace iotxmpp::test
