#include "core/server/registry.hpp"

#include <algorithm>
#include <mutex>

namespace iotxmpp {

std::shared_ptr<peer> registry::bind(std::shared_ptr<peer> p) {
  const std::string_view key = p->address().to_string();
  std::unique_lock lock(mutex_);
  auto [it, inserted] = peers_.try_emplace(key, p);
  if (inserted) return nullptr;
  // The key views the older peer's JID: the entry is made anew, so that it
  // views the newer one's.
  std::shared_ptr<peer> older = std::move(it->second);
  peers_.erase(it);
  peers_.emplace(key, std::move(p));
  return older;
}

bool registry::unbind(const peer& p) {
  std::unique_lock lock(mutex_);
  auto it = peers_.find(p.address().to_string());
  // Only the registered peer may remove the entry: after a conflict the
  // newer session owns the JID and the older one's unbind must not evict it.
  if (it == peers_.end() || it->second.get() != &p) return false;
  peers_.erase(it);
  return true;
}

std::vector<std::shared_ptr<peer>> registry::of_account(std::string_view local,
                                                        std::string_view domain) const {
  std::vector<std::shared_ptr<peer>> out;
  std::shared_lock lock(mutex_);
  for (const auto& [text, p] : peers_) {
    const jid& j = p->address();
    if (j.local() == local && j.domain() == domain) out.push_back(p);
  }
  return out;
}

std::vector<std::string> registry::online() const {
  std::vector<std::string> out;
  {
    std::shared_lock lock(mutex_);
    out.reserve(peers_.size());
    for (const auto& [jid, p] : peers_) out.emplace_back(jid);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::size_t registry::online_count() const {
  std::shared_lock lock(mutex_);
  return peers_.size();
}

}  // namespace iotxmpp
