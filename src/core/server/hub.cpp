#include "core/server/hub.hpp"

#include <algorithm>

#include "core/base/log.hpp"
#include "core/xml/xml_element.hpp"

namespace iotxmpp {

hub::hub(server_config config, rules rules, store_writer& writer, std::unique_ptr<store> reader,
         store_factory reopen)
    : config_(std::move(config)),
      rules_(std::move(rules)),
      writer_(writer),
      reader_(std::move(reader)),
      reopen_(std::move(reopen)) {}

std::shared_ptr<peer> hub::bind(std::shared_ptr<peer> p) {
  const std::string_view key = p->address().to_string();
  std::unique_lock lock(registry_mutex_);
  auto [it, inserted] = peers_.try_emplace(key, p);
  if (inserted) return nullptr;
  // The key views the older peer's JID: the entry is made anew, so that it
  // views the newer one's.
  std::shared_ptr<peer> older = std::move(it->second);
  peers_.erase(it);
  peers_.emplace(key, std::move(p));
  return older;
}

bool hub::unbind(const peer& p) {
  unsubscribe(p);
  std::unique_lock lock(registry_mutex_);
  auto it = peers_.find(p.address().to_string());
  // Only the registered peer may remove the entry: after a conflict the
  // newer session owns the JID and the older one's unbind must not evict it.
  if (it == peers_.end() || it->second.get() != &p) return false;
  peers_.erase(it);
  return true;
}

std::vector<std::string> hub::online() const {
  std::vector<std::string> out;
  {
    std::shared_lock lock(registry_mutex_);
    out.reserve(peers_.size());
    for (const auto& [jid, p] : peers_) out.emplace_back(jid);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::size_t hub::online_count() const {
  std::shared_lock lock(registry_mutex_);
  return peers_.size();
}

void hub::for_each_peer(const std::function<void(peer&)>& f) const {
  std::shared_lock lock(registry_mutex_);
  for (const auto& [jid, p] : peers_) f(*p);
}

void hub::subscribe(const std::shared_ptr<peer>& p, std::string room) {
  std::unique_lock lock(feed_mutex_);
  subscribers_[p.get()] = subscription{p, std::move(room)};
}

void hub::unsubscribe(const peer& p) {
  std::unique_lock lock(feed_mutex_);
  subscribers_.erase(&p);
}

void hub::publish(std::string_view room, pugi::xml_node stanza, std::string_view from) {
  std::shared_lock lock(feed_mutex_);
  for (const auto& [key, sub] : subscribers_) {
    if (!sub.room.empty() && sub.room != room) continue;
    auto target = sub.target.lock();
    if (!target) continue;
    std::string bytes;
    write_node(stanza, bytes, from, target->address().to_string());
    target->deliver(std::move(bytes));
  }
}

void hub::remember(const status_report& report) {
  std::lock_guard lock(rooms_mutex_);
  auto it = rooms_.find(report.room);
  if (it != rooms_.end()) {
    // A late resend or an out-of-order report must not replace a newer one.
    if (it->second.report.taken_at.utc > report.taken_at.utc) return;
    it->second.report = report;
    room_order_.splice(room_order_.end(), room_order_, it->second.order);
    return;
  }
  if (rooms_.size() >= std::max<std::size_t>(1, config_.room_cache_size)) {
    rooms_.erase(room_order_.front());
    room_order_.pop_front();
  }
  room_order_.push_back(report.room);
  rooms_.emplace(report.room, room_entry{report, std::prev(room_order_.end())});
}

std::optional<status_report> hub::latest(std::string_view room) {
  std::lock_guard lock(rooms_mutex_);
  if (auto it = rooms_.find(std::string(room)); it != rooms_.end()) return it->second.report;
  if (!reader_) return std::nullopt;
  auto found = reader_->latest_report(room);
  if (!found && found.error().kind == error_kind::connect && reopen_ &&
      std::chrono::steady_clock::now() >= next_reopen_) {
    next_reopen_ = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    if (auto fresh = reopen_()) {
      reader_ = std::move(*fresh);
      found = reader_->latest_report(room);
    }
  }
  if (!found) {
    // The answer degrades to "unknown room" rather than failing the IQ; the
    // outage is the writer's to report loudly.
    log::warn("room look-up failed",
              {{"room", std::string(room)}, {"error", found.error().message}});
    return std::nullopt;
  }
  return *found;
}

}  // namespace iotxmpp
