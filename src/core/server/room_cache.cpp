#include "core/server/room_cache.hpp"

#include <algorithm>

#include "core/base/log.hpp"
#include "core/base/thread_name.hpp"

namespace iotxmpp {

room_cache::room_cache(std::size_t capacity, store_factory open)
    : capacity_(std::max<std::size_t>(1, capacity)), open_(std::move(open)) {}

room_cache::~room_cache() { stop(); }

void room_cache::remember(const status_report& report) {
  std::lock_guard lock(mutex_);
  auto it = rooms_.find(report.room);
  if (it != rooms_.end()) {
    // A late resend or an out-of-order report must not replace a newer one.
    if (it->second.report && it->second.report->taken_at.utc > report.taken_at.utc) return;
    it->second.report = report;
    order_.splice(order_.end(), order_, it->second.order);
    return;
  }
  insert_locked(report.room, report);
}

void room_cache::insert_locked(const std::string& room, std::optional<status_report> report) {
  if (rooms_.size() >= capacity_) {
    rooms_.erase(order_.front());
    order_.pop_front();
  }
  order_.push_back(room);
  rooms_.emplace(room, entry{std::move(report), std::prev(order_.end())});
}

room_cache::lookup room_cache::find(std::string_view room) const {
  std::lock_guard lock(mutex_);
  if (auto it = rooms_.find(std::string(room)); it != rooms_.end())
    return {true, it->second.report};
  return {};
}

std::optional<status_report> room_cache::settle(const std::string& room,
                                                std::optional<status_report> found) {
  std::lock_guard lock(mutex_);
  auto it = rooms_.find(room);
  if (it != rooms_.end()) return it->second.report;  // remembered while we read: as new
  insert_locked(room, found);
  return found;
}

void room_cache::load(std::string room, loaded done) {
  if (!open_) {
    done(std::nullopt);
    return;
  }
  std::lock_guard lock(loads_mutex_);
  if (stopping_) return;
  if (!loader_.joinable())
    loader_ = std::thread([this] {
      name_this_thread("iotxmpp-rooms");
      run();
    });
  auto [it, fresh] = loads_.try_emplace(room);
  it->second.push_back(std::move(done));
  if (fresh) {
    load_order_.push_back(std::move(room));
    loads_cv_.notify_one();
  }
}

void room_cache::stop() {
  {
    std::lock_guard lock(loads_mutex_);
    stopping_ = true;
  }
  loads_cv_.notify_all();
  if (loader_.joinable()) loader_.join();
  std::lock_guard lock(loads_mutex_);
  loads_.clear();
  load_order_.clear();
}

void room_cache::run() {
  std::unique_lock lock(loads_mutex_);
  for (;;) {
    loads_cv_.wait(lock, [this] { return stopping_ || !load_order_.empty(); });
    if (stopping_) return;
    std::string room = std::move(load_order_.front());
    load_order_.pop_front();
    lock.unlock();
    auto read_back = read(room);
    // Unreadable (the store is away): unknown for now, and not remembered.
    std::optional<status_report> found =
        read_back ? settle(room, std::move(*read_back)) : std::nullopt;
    lock.lock();
    auto node = loads_.extract(room);
    lock.unlock();
    for (auto& done : node.mapped()) done(found);
    lock.lock();
  }
}

std::optional<std::optional<status_report>> room_cache::read(const std::string& room) {
  // After a failed open or a lost connection, at most one open every 5 s.
  constexpr auto reopen_every = std::chrono::seconds(5);
  const auto now = std::chrono::steady_clock::now();
  auto open = [this] {
    auto opened = open_();
    if (opened)
      reader_ = std::move(*opened);
    else
      log::warn("room look-up cannot reach the store", {{"error", opened.error().message}});
    return reader_ != nullptr;
  };
  if (!reader_) {
    if (now < next_open_) return std::nullopt;
    if (!open()) {
      next_open_ = now + reopen_every;
      return std::nullopt;
    }
  }
  auto found = reader_->latest_report(room);
  if (!found && found.error().kind == error_kind::connect) {
    reader_.reset();
    if (now >= next_open_) {
      next_open_ = now + reopen_every;
      if (open()) found = reader_->latest_report(room);
    }
  }
  if (!found) {
    // The answer degrades to "unknown room" rather than failing the IQ; the
    // outage is the writer's to report loudly.
    log::warn("room look-up failed", {{"room", room}, {"error", found.error().message}});
    return std::nullopt;
  }
  return std::move(*found);
}

}  // namespace iotxmpp
