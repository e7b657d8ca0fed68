#pragma once
// Device accounts as `serve` needs them: the keys and grants of one account
// for a login, read on the directory's own thread (a slow database delays
// that login, never a network thread), and the account events other
// processes record (`iotxmpp device disable`, remove, revoke, passwd),
// polled so the live sessions of such an account end.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/base/error.hpp"
#include "core/model/account.hpp"
#include "core/store/store.hpp"
#include "core/xmpp/sasl_exchange.hpp"

namespace iotxmpp {

class account_directory {
 public:
  using store_factory = std::function<result<std::unique_ptr<store>>()>;

  struct found {
    login_keys keys;                 // unavailable when the store could not be read
    std::vector<std::string> rooms;  // the account's grants
  };
  // Called on the directory's thread; must not block.
  using answer = std::function<void(found)>;
  using events_handler = std::function<void(const std::vector<account_event>&)>;

  // `poll_every`: how often the account events are read (0: never).
  account_directory(store_factory open, std::chrono::milliseconds poll_every,
                    events_handler on_events);
  ~account_directory();  // stop()

  // Looks `name` up; `done` gets the keys (missing for a name that is not a
  // valid account name, without asking the store).
  void lookup(std::string name, answer done);
  // Ends the thread; pending look-ups are answered `unavailable`.
  void stop();

  // The answer when the store cannot be read (temporary-auth-failure).
  static found unavailable() {
    found f;
    f.keys.state = login_keys::status::unavailable;
    return f;
  }
  // The store's account as a login sees it (exposed for tests).
  static found from_account(const std::optional<account>& a);

 private:
  void run();
  bool ensure_store();
  void poll_events();
  void failed(std::string_view what, const error& e, std::string_view account);
  void worked();

  store_factory open_;
  std::chrono::milliseconds poll_every_;
  events_handler on_events_;
  std::unique_ptr<store> db_;
  bool failing_ = false;          // warned that the store fails; told when it works again
  std::int64_t last_event_ = -1;  // -1: not read yet (events before start are old news)
  static constexpr std::int64_t event_lookback = 256;
  std::set<std::int64_t> seen_;  // event ids within the look-back, already handled

  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::pair<std::string, answer>> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace iotxmpp
