#include "core/server/feed.hpp"

#include <mutex>

#include "core/server/server_metrics.hpp"
#include "core/xml/xml_element.hpp"

namespace iotxmpp {

void feed::subscribe(const std::shared_ptr<peer>& p, std::string room) {
  std::unique_lock lock(mutex_);
  const auto before = subscribers_.size();
  subscribers_[p.get()] = subscription{p, std::move(room)};
  count_.store(subscribers_.size());
  server_metrics().feed_subscribers.add(double(subscribers_.size()) - double(before));
}

void feed::unsubscribe(const peer& p) {
  if (count_.load() == 0) return;
  std::unique_lock lock(mutex_);
  if (subscribers_.erase(&p) != 0) server_metrics().feed_subscribers.add(-1);
  count_.store(subscribers_.size());
}

void feed::publish(std::string_view room, pugi::xml_node stanza, std::string_view from) {
  if (count_.load() == 0) return;
  std::shared_lock lock(mutex_);
  for (const auto& [key, sub] : subscribers_) {
    if (!sub.room.empty() && sub.room != room) continue;
    auto target = sub.target.lock();
    if (!target) continue;
    std::string bytes;
    write_node(stanza, bytes, from, target->address().to_string());
    target->deliver(std::move(bytes));
    count_stanza_sent_named(stanza.name());
  }
}

void feed::publish_made(std::string_view room,
                        const std::function<std::string(std::string_view to)>& make) {
  if (count_.load() == 0) return;
  std::shared_lock lock(mutex_);
  for (const auto& [key, sub] : subscribers_) {
    if (!sub.room.empty() && sub.room != room) continue;
    auto target = sub.target.lock();
    if (!target) continue;
    target->deliver(make(target->address().to_string()));
  }
}

}  // namespace iotxmpp
