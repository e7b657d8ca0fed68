#include "core/server/commit_tracker.hpp"

namespace iotxmpp {

commit_tracker::~commit_tracker() {
  take_refused([](std::string&) {});
}

void commit_tracker::refused_report(std::string id) {
  auto* node = new refused_node{std::move(id), refused_.load()};
  while (!refused_.compare_exchange_weak(node->next, node)) {
  }
}

bool commit_tracker::completed(bool ok) {
  // A loss is counted before the completion: a reply released by this
  // completion must see it.
  if (!ok) lost_.fetch_add(1);
  const std::uint64_t done = completed_.fetch_add(1) + 1;
  return done == awaited_.load();
}

void commit_tracker::defer(std::string reply, std::string if_lost) {
  if (!deferred_) deferred_ = std::make_unique<std::vector<deferred_reply>>();
  deferred_->push_back({submitted_, std::move(reply), std::move(if_lost)});
}

// Announces the completion the oldest reply waits for. Store, then look
// again (both sequentially consistent): a completion that counted past this
// number before it was announced did not ask for a release, so the caller
// must look again. True when the wait is armed.
bool commit_tracker::arm() {
  const std::uint64_t after = deferred_->front().after;
  awaited_.store(after);
  return completed_.load() < after;
}

std::string& commit_tracker::vouch(std::string& reply, std::string& if_lost) {
  const std::uint32_t lost = lost_.load();
  if (lost != lost_told_ && !if_lost.empty()) {
    lost_told_ = lost;
    return if_lost;
  }
  return reply;
}

}  // namespace iotxmpp
