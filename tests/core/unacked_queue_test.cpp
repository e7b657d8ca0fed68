// The unacknowledged reports of one simulated device: ping marks, resends
// after a lost connection, refusals, the bound.

#include "core/client/unacked_queue.hpp"

#include <gtest/gtest.h>

namespace iotxmpp {
namespace {

std::string stanza(int n) { return "<r" + std::to_string(n) + "/>"; }

void push_n(unacked_queue& q, int from, int to) {
  for (int n = from; n <= to; ++n) ASSERT_TRUE(q.push("id" + std::to_string(n), stanza(n)));
}

TEST(UnackedQueue, WritesEachReportOnceOnAConnectionAndAcknowledgesUpToTheMark) {
  unacked_queue q(10);
  push_n(q, 1, 3);
  auto b = q.unwritten();
  EXPECT_EQ(b.bytes, "<r1/><r2/><r3/>");
  EXPECT_EQ(b.reports, 3u);
  EXPECT_EQ(b.resends, 0u);
  EXPECT_EQ(b.through, 3u);
  q.written(b.through);
  EXPECT_EQ(q.unwritten().reports, 0u) << "written: not again on this connection";
  EXPECT_EQ(q.unwritten().through, 3u);
  push_n(q, 4, 5);
  b = q.unwritten();
  EXPECT_EQ(b.bytes, "<r4/><r5/>");
  q.written(b.through);
  // The ping after r3 answers: r1..r3 are stored, r4 and r5 still held.
  EXPECT_EQ(q.acknowledge(3), 3u);
  EXPECT_EQ(q.size(), 2u);
  EXPECT_EQ(q.acknowledge(3), 0u) << "a mark already covered drops nothing";
  EXPECT_EQ(q.acknowledge(5), 2u);
  EXPECT_TRUE(q.empty());
}

TEST(UnackedQueue, ALostConnectionResendsEveryHeldReportInOrderWithItsId) {
  unacked_queue q(10);
  push_n(q, 1, 4);
  q.written(q.unwritten().through);
  q.acknowledge(1);
  push_n(q, 5, 5);  // made, not written yet when the connection drops
  q.connection_lost();
  EXPECT_EQ(q.written_through(), 0u);
  auto b = q.unwritten();
  EXPECT_EQ(b.bytes, "<r2/><r3/><r4/><r5/>") << "the same stanzas, so the same ids";
  EXPECT_EQ(b.reports, 4u);
  EXPECT_EQ(b.resends, 3u) << "r5 goes out for the first time";
  q.written(b.through);
  q.connection_lost();  // lost again before any answer
  EXPECT_EQ(q.unwritten().resends, 4u);
}

TEST(UnackedQueue, IsBoundedAndAFullQueueRefusesWithoutDropping) {
  unacked_queue q(3);
  push_n(q, 1, 3);
  EXPECT_TRUE(q.full());
  EXPECT_FALSE(q.push("id4", stanza(4)));
  EXPECT_EQ(q.size(), 3u);
  EXPECT_EQ(q.unwritten().bytes, "<r1/><r2/><r3/>") << "the oldest are kept";
  q.written(3);
  q.acknowledge(2);
  EXPECT_FALSE(q.full());
  EXPECT_TRUE(q.push("id4", stanza(4)));
  EXPECT_EQ(q.unwritten().bytes, "<r4/>");
}

TEST(UnackedQueue, ARefusedReportIsDroppedByIdAndNotAcknowledgedAgain) {
  unacked_queue q(10);
  push_n(q, 1, 4);
  q.written(4);
  EXPECT_TRUE(q.refuse("id2"));
  EXPECT_FALSE(q.refuse("id2"));
  EXPECT_FALSE(q.refuse("nope"));
  EXPECT_EQ(q.size(), 3u);
  q.connection_lost();
  EXPECT_EQ(q.unwritten().bytes, "<r1/><r3/><r4/>");
  EXPECT_EQ(q.acknowledge(4), 3u);
}

}  // namespace
}  // namespace iotxmpp
