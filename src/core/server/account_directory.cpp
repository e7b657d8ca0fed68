#include "core/server/account_directory.hpp"

#include "core/base/log.hpp"
#include "core/base/thread_name.hpp"
#include "core/sasl/scram_credentials.hpp"

namespace iotxmpp {

account_directory::account_directory(store_factory open, std::chrono::milliseconds poll_every,
                                     events_handler on_events)
    : open_(std::move(open)), poll_every_(poll_every), on_events_(std::move(on_events)) {
  thread_ = std::thread([this] {
    name_this_thread("iotxmpp-accounts");
    run();
  });
}

account_directory::~account_directory() { stop(); }

void account_directory::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  for (auto& [name, done] : queue_) done(unavailable());
  queue_.clear();
}

void account_directory::lookup(std::string name, answer done) {
  if (!valid_account_name(name)) {
    done(found{});  // missing
    return;
  }
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      queue_.emplace_back(std::move(name), std::move(done));
      cv_.notify_one();
      return;
    }
  }
  done(unavailable());
}

account_directory::found account_directory::from_account(const std::optional<account>& a) {
  found out;
  if (!a) return out;
  out.keys.state = login_keys::status::found;
  out.keys.disabled = a->disabled;
  for (const auto& c : a->credentials) {
    auto h = hash_from_name(c.hash);
    if (!h || c.iterations < min_scram_iterations) continue;
    out.keys.keys.push_back({*h, c.salt, c.iterations, c.stored_key, c.server_key});
  }
  out.rooms = a->rooms;
  return out;
}

bool account_directory::ensure_store() {
  if (db_) return true;
  auto opened = open_();
  if (!opened) {
    failed("accounts: cannot reach the store", opened.error(), {});
    return false;
  }
  db_ = std::move(*opened);
  return true;
}

// One warning when the store starts failing, and one line when it works
// again: not one per poll or login while it is down.
void account_directory::failed(std::string_view what, const error& e, std::string_view account) {
  db_.reset();  // a new connection next time: this one may be dead
  if (failing_) return;
  failing_ = true;
  if (account.empty())
    log::warn(what, {{"error", e.message}});
  else
    log::warn(what, {{"account", std::string(account)}, {"error", e.message}});
}

void account_directory::worked() {
  if (!failing_) return;
  failing_ = false;
  log::info("accounts: the store answers again");
}

// MySQL hands out auto-increment ids when a transaction inserts, not when it
// commits: an event with a lower id can become visible after a higher one.
// So each poll reads again the last `event_lookback` ids and skips the ones
// it has seen.
void account_directory::poll_events() {
  if (!ensure_store()) return;
  const bool first = last_event_ < 0;
  if (first) {
    auto last = db_->last_account_event();
    if (!last) {
      failed("accounts: cannot read events", last.error(), {});
      return;
    }
    last_event_ = *last;
  }
  auto events =
      db_->account_events_after(std::max<std::int64_t>(0, last_event_ - event_lookback), 1000);
  if (!events) {
    failed("accounts: cannot read events", events.error(), {});
    return;
  }
  worked();
  std::vector<account_event> fresh;
  for (auto& e : *events) {
    last_event_ = std::max(last_event_, e.id);
    if (seen_.insert(e.id).second) fresh.push_back(std::move(e));
  }
  std::erase_if(seen_, [&](std::int64_t id) { return id <= last_event_ - event_lookback; });
  // Events from before the start are old news: their sessions began later.
  if (!first && !fresh.empty() && on_events_) on_events_(fresh);
}

void account_directory::run() {
  auto next_poll = std::chrono::steady_clock::now();
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (queue_.empty()) {
      if (poll_every_.count() > 0)
        cv_.wait_until(lock, next_poll, [&] { return stopping_ || !queue_.empty(); });
      else
        cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    }
    if (stopping_) break;
    if (!queue_.empty()) {
      auto [name, done] = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      found answer_now = unavailable();
      if (ensure_store()) {
        auto a = db_->find_account(name);
        if (a) {
          answer_now = from_account(*a);
          worked();
        } else {
          failed("accounts: look-up failed", a.error(), name);
        }
      }
      done(std::move(answer_now));
      lock.lock();
    }
    if (poll_every_.count() > 0 && std::chrono::steady_clock::now() >= next_poll) {
      lock.unlock();
      poll_events();
      next_poll = std::chrono::steady_clock::now() + poll_every_;
      lock.lock();
    }
  }
}

}  // namespace iotxmpp
