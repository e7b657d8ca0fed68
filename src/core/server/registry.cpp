#include "core/server/registry.hpp"

#include <algorithm>
#include <mutex>

namespace iotxmpp {

std::shared_ptr<peer> registry::bind(std::shared_ptr<peer> p, std::string room) {
  const std::string_view key = p->address().to_string();
  std::unique_lock lock(mutex_);
  std::shared_ptr<peer> older;
  if (auto it = peers_.find(key); it != peers_.end()) {
    // The key views the older peer's JID: the entry is made anew, so that
    // it views the newer one's.
    older = std::move(it->second.p);
    peers_.erase(it);
  }
  peers_.emplace(key, entry{std::move(p), std::move(room)});
  return older;
}

void registry::moved(const peer& p, std::string_view room) {
  std::unique_lock lock(mutex_);
  auto it = peers_.find(p.address().to_string());
  if (it != peers_.end() && it->second.p.get() == &p) it->second.room = room;
}

bool registry::unbind(const peer& p) {
  std::unique_lock lock(mutex_);
  auto it = peers_.find(p.address().to_string());
  // Only the registered peer may remove the entry: after a conflict the
  // newer session owns the JID and the older one's unbind must not evict it.
  if (it == peers_.end() || it->second.p.get() != &p) return false;
  peers_.erase(it);
  return true;
}

std::vector<std::shared_ptr<peer>> registry::of_account(std::string_view local,
                                                        std::string_view domain) const {
  std::vector<std::shared_ptr<peer>> out;
  std::shared_lock lock(mutex_);
  for (const auto& [text, e] : peers_) {
    const jid& j = e.p->address();
    if (j.local() == local && j.domain() == domain) out.push_back(e.p);
  }
  return out;
}

std::vector<std::string> registry::online() const {
  std::vector<std::string> out;
  {
    std::shared_lock lock(mutex_);
    out.reserve(peers_.size());
    for (const auto& [jid, e] : peers_) out.emplace_back(jid);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<online_device> registry::online_devices() const {
  std::vector<online_device> out;
  {
    std::shared_lock lock(mutex_);
    out.reserve(peers_.size());
    for (const auto& [jid, e] : peers_) out.push_back({std::string(jid), e.room});
  }
  std::sort(out.begin(), out.end(),
            [](const online_device& a, const online_device& b) { return a.jid < b.jid; });
  return out;
}

std::size_t registry::online_count() const {
  std::shared_lock lock(mutex_);
  return peers_.size();
}

}  // namespace iotxmpp
