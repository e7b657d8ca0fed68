#pragma once
// The latest report of each room, for recommendations (PROTOCOL.md §3.3):
// least recently updated evicted first. It also remembers rooms the store
// showed to have no report, until one arrives here, so that asking about
// an empty room costs no database read each time. find() answers from memory under a
// short lock and never touches the database. A room it does not hold is read
// from the store by load(), on the cache's own loader thread: a slow
// database delays the asker's answer, never a network thread or the other
// sessions on it.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/base/error.hpp"
#include "core/model/model.hpp"
#include "core/store/store.hpp"

namespace iotxmpp {

class room_cache {
 public:
  using store_factory = std::function<result<std::unique_ptr<store>>()>;
  // Called on the loader thread with the room's latest report (nullopt: the
  // room never reported, or the store could not be read: the answer
  // degrades to "unknown room" and the outage is logged). Must not block.
  using loaded = std::function<void(std::optional<status_report>)>;

  // `open` makes the loader's store connection, on the loader thread when
  // first needed and again after a lost connection (at most once every 5 s,
  // so an outage costs look-ups little). Without it, rooms the cache does
  // not hold are unknown and load() answers nullopt at once.
  room_cache(std::size_t capacity, store_factory open);
  ~room_cache();  // stop()
  room_cache(const room_cache&) = delete;
  room_cache& operator=(const room_cache&) = delete;

  // Remembers the room's latest report (by its own timestamp: a late resend
  // never replaces a newer one).
  void remember(const status_report& report);
  // What the cache knows of a room. Never blocks on I/O.
  struct lookup {
    bool known = false;                   // false: ask load()
    std::optional<status_report> report;  // known: its latest report, or none ever
  };
  lookup find(std::string_view room) const;
  // Reads the room from the store on the loader thread, remembers what it
  // found, then calls `done` there. Loads of one room wait on one read.
  void load(std::string room, loaded done);
  // Ends the loader thread; pending loads are dropped without a call (their
  // askers are being shut down). Idempotent.
  void stop();

 private:
  void run();
  // The store's answer: nullopt when it could not be read.
  std::optional<std::optional<status_report>> read(const std::string& room);
  // Keeps what the store said unless the room was remembered meanwhile;
  // returns what the cache now holds for the room.
  std::optional<status_report> settle(const std::string& room, std::optional<status_report> found);
  // Adds a room the cache does not hold, evicting the least recently
  // updated one when full. Under mutex_.
  void insert_locked(const std::string& room, std::optional<status_report> report);

  const std::size_t capacity_;
  store_factory open_;

  // Latest report per room, least recently updated first.
  mutable std::mutex mutex_;
  std::list<std::string> order_;
  struct entry {
    std::optional<status_report> report;  // nullopt: the store had none
    std::list<std::string>::iterator order;
  };
  std::unordered_map<std::string, entry> rooms_;

  // Loader: rooms to read, with everyone waiting on each (bounded by the
  // sessions: each waits on at most one look-up).
  std::mutex loads_mutex_;
  std::condition_variable loads_cv_;
  std::unordered_map<std::string, std::vector<loaded>> loads_;
  std::deque<std::string> load_order_;
  bool stopping_ = false;
  std::thread loader_;

  std::unique_ptr<store> reader_;  // loader thread only
  std::chrono::steady_clock::time_point next_open_{};
};

}  // namespace iotxmpp
