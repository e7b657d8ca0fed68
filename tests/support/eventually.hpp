#pragma once
// Waiting on a condition instead of sleeping for a guessed time: tests run
// under `ctest -j2` on a loaded two-core box, where any fixed sleep is
// sometimes too short. The deadlines are generous; a condition that holds
// returns at once.

#include <chrono>
#include <thread>

namespace iotxmpp::test {

// Polls `done` every `every` until it returns true (then true) or `limit`
// has passed (then false, after one last look).
template <class F>
bool eventually(F done, std::chrono::milliseconds limit = std::chrono::seconds(10),
                std::chrono::milliseconds every = std::chrono::milliseconds(10)) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(every);
  }
  return done();
}

}  // namespace iotxmpp::test
