// commit_tracker: replies released in order once the writes before them
// completed, the loss told once, and exactly one release asked for per
// awaited completion (the writer's side runs on another thread).

#include "core/server/commit_tracker.hpp"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace iotxmpp {
namespace {

std::vector<std::string> release(commit_tracker& t) {
  std::vector<std::string> sent;
  t.release([&sent](std::string& s) { sent.push_back(s); });
  return sent;
}

TEST(CommitTracker, RepliesWaitForTheWritesBeforeThemInOrder) {
  commit_tracker t;
  t.submitted();
  t.submitted();
  t.defer("ping1", "lost1");  // waits for writes 1-2
  EXPECT_TRUE(release(t).empty());
  t.submitted();
  t.defer("ping2", "lost2");  // waits for write 3
  EXPECT_TRUE(t.waiting());
  EXPECT_FALSE(t.completed(true));  // write 1: nobody waits for exactly it
  EXPECT_TRUE(t.completed(true));   // write 2: ping1 waits for it
  EXPECT_EQ(release(t), std::vector<std::string>{"ping1"});
  EXPECT_TRUE(t.completed(true));  // write 3: ping2 is armed now
  EXPECT_EQ(release(t), std::vector<std::string>{"ping2"});
  EXPECT_FALSE(t.waiting());
  EXPECT_FALSE(t.in_flight());
  EXPECT_EQ(t.completed_count(), 3u);
}

TEST(CommitTracker, ALossIsToldOnceByTheNextVouchingReply) {
  commit_tracker t;
  t.submitted();
  t.submitted();
  t.defer("ok1", "lost1");
  t.completed(false);  // refused for good
  t.completed(true);
  EXPECT_EQ(release(t), std::vector<std::string>{"lost1"});
  t.submitted();
  t.defer("ok2", "lost2");
  t.completed(true);
  EXPECT_EQ(release(t), std::vector<std::string>{"ok2"});  // told already
  std::string reply = "ok3", if_lost;
  EXPECT_EQ(&t.vouch(reply, if_lost), &reply);  // an empty if_lost is never chosen
}

TEST(CommitTracker, CompletionsBeforeTheDeferAreNotMissed) {
  commit_tracker t;
  t.submitted();
  t.completed(true);  // done before any reply waited
  t.submitted();
  t.defer("ping", "");
  t.completed(true);  // may run before release() armed the wait
  EXPECT_EQ(release(t), std::vector<std::string>{"ping"});
}

// The writer thread completes while the session thread defers and releases:
// every reply goes out exactly once, in order, and only after its writes.
TEST(CommitTracker, ConcurrentCompletionsReleaseEveryReplyOnceInOrder) {
  constexpr int rounds = 20000;
  commit_tracker t;
  std::atomic<std::uint64_t> asked{0};  // releases the writer side asked for
  std::atomic<std::uint64_t> can_complete{0};
  std::thread writer([&] {
    for (std::uint64_t done = 0; done < rounds;) {
      if (done < can_complete.load()) {
        if (t.completed(true)) ++asked;
        ++done;
      }
    }
  });
  std::vector<std::string> sent;
  std::uint64_t checked = 0;
  for (int i = 0; i < rounds; ++i) {
    t.submitted();
    t.defer(std::to_string(i), "");
    can_complete.store(t.submitted_count());
    // Either the release happens here (completions came first), or the
    // writer asks for one: release whenever asked, as the session does.
    t.release([&](std::string& s) {
      EXPECT_LE(std::stoull(s) + 1, t.completed_count());
      sent.push_back(s);
    });
    while (asked.load() > checked) {
      ++checked;
      t.release([&](std::string& s) { sent.push_back(s); });
    }
  }
  writer.join();
  while (t.waiting()) t.release([&](std::string& s) { sent.push_back(s); });
  ASSERT_EQ(sent.size(), static_cast<std::size_t>(rounds));
  for (int i = 0; i < rounds; ++i) ASSERT_EQ(sent[i], std::to_string(i));
}

}  // namespace
}  // namespace iotxmpp
