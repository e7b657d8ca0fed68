#include "core/server/registry.hpp"

#include <algorithm>
#include <mutex>

namespace iotxmpp {

std::shared_ptr<peer> registry::bind(std::shared_ptr<peer> p, std::string room) {
  const std::string_view key = p->address().to_string();
  const sys_micros now = clock::wall_now();
  std::unique_lock lock(mutex_);
  std::shared_ptr<peer> older;
  if (auto it = peers_.find(key); it != peers_.end()) {
    // The key views the older peer's JID: the entry is made anew, so that
    // it views the newer one's.
    older = std::move(it->second.p);
    peers_.erase(it);
  }
  peers_.emplace(key, entry{std::move(p), std::move(room), now});
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
    out.reserve(peers_.size() + elsewhere_.size());
    for (const auto& [jid, e] : peers_) out.push_back({std::string(jid), e.room, node_});
    for (const auto& d : elsewhere_)
      if (!peers_.contains(d.jid)) out.push_back(d);
  }
  std::sort(out.begin(), out.end(),
            [](const online_device& a, const online_device& b) { return a.jid < b.jid; });
  return out;
}

std::size_t registry::online_count() const {
  std::shared_lock lock(mutex_);
  return peers_.size();
}

std::shared_ptr<peer> registry::bound_before(std::string_view full_jid, sys_micros than) const {
  std::shared_lock lock(mutex_);
  auto it = peers_.find(full_jid);
  if (it == peers_.end() || it->second.bound_at >= than) return nullptr;
  return it->second.p;
}

void registry::set_elsewhere(std::vector<online_device> devices) {
  std::unique_lock lock(mutex_);
  elsewhere_.swap(devices);
  // The old list is freed after the lock is released (its destructor runs
  // at the end of this scope, after `lock`'s).
}

}  // namespace iotxmpp
