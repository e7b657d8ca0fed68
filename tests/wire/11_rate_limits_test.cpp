// 11: rate limits (PROTOCOL.md §4). A session over its stanza or byte rate
// is read more slowly (everything it sent is still answered), one that
// stays over it past the grace gets policy-violation, an address that opens
// connections too fast is refused, and the defaults leave a normal device
// alone.

#include <thread>

#include "core/server/rate_limits.hpp"
#include "wire/wire_fixture.hpp"

namespace iotxmpp::test {
namespace {

using namespace std::chrono_literals;
using clk = std::chrono::steady_clock;

std::unique_ptr<test_server> limited(const rate_policy& rates) {
  return std::make_unique<test_server>([&](server_options& o) { o.config.rates = rates; });
}

// Sends `n` pings at once and waits for every answer; the time it took.
clk::duration pings(raw_client& c, int n) {
  std::string burst;
  for (int i = 0; i < n; ++i) burst += ping(std::string("p").append(std::to_string(i)));
  const auto start = clk::now();
  c.send(burst);
  std::string last = c.read_until("id='p" + std::to_string(n - 1) + "'", 20s);
  EXPECT_FALSE(last.empty()) << "every ping is answered, none dropped";
  return clk::now() - start;
}

TEST(Wire11RateLimits, OverTheStanzaRateTheSessionIsSlowedNotDropped) {
  rate_policy r;
  r.stanzas_per_second = 200;
  r.bytes_per_second = 0;
  r.burst_seconds = 0.1;  // 20 stanzas at once
  r.connections_per_second = 0;
  auto s = limited(r);
  raw_client c("127.0.0.1", s->port());
  c.negotiate();
  // The shaper pauses between reads (4 KiB, about 55 pings): 300 pings are
  // 20 from the burst, one last read answered before its pause, and the
  // rest at 200/s: at least 1.1 s.
  auto took = pings(c, 300);
  EXPECT_GE(took, 800ms);
  EXPECT_FALSE(c.closed());
}

TEST(Wire11RateLimits, OverTheByteRateTheSessionIsSlowed) {
  rate_policy r;
  r.stanzas_per_second = 0;
  r.bytes_per_second = 40'000;
  r.burst_seconds = 0.1;  // 4 KB at once
  r.connections_per_second = 0;
  auto s = limited(r);
  raw_client c("127.0.0.1", s->port());
  c.negotiate();
  std::string burst;
  for (int i = 0; i < 100; ++i)
    burst += report(std::string("b").append(std::to_string(i)));  // ~50 KB
  const auto start = clk::now();
  c.send(burst);
  ASSERT_TRUE(sync(c));
  // 4 KB of burst, the last 4 KB read before its pause, the rest at 40 KB/s.
  EXPECT_GE(clk::now() - start, 600ms) << burst.size() << " bytes";
  EXPECT_EQ(open_test_store(*s)->count_reports().value(), 100u);
}

TEST(Wire11RateLimits, FarOverTheRateForLongerThanTheGraceIsPolicyViolation) {
  rate_policy r;
  r.stanzas_per_second = 50;
  r.bytes_per_second = 0;
  r.burst_seconds = 0.1;
  r.grace = 300ms;
  r.connections_per_second = 0;
  auto s = limited(r);
  raw_client flood("127.0.0.1", s->port());
  flood.negotiate();
  raw_client calm("127.0.0.1", s->port());
  calm.negotiate("calm");
  std::string burst;
  for (int i = 0; i < 3000; ++i) burst += ping(std::string("f").append(std::to_string(i)));
  flood.send(burst);  // the kernel buffers take it; the server reads it at 50/s
  std::string got = flood.read_to_close(10s);
  EXPECT_NE(got.find("<policy-violation"), std::string::npos)
      << got.substr(got.size() > 600 ? got.size() - 600 : 0);
  EXPECT_NE(got.find("over the rate limit for too long"), std::string::npos);
  // Another session was never slowed down.
  const auto start = clk::now();
  ASSERT_TRUE(sync(calm));
  EXPECT_LT(clk::now() - start, 2s);
}

TEST(Wire11RateLimits, TooManyNewConnectionsFromOneAddressAreRefused) {
  rate_policy r;
  r.stanzas_per_second = 0;
  r.bytes_per_second = 0;
  r.connections_per_second = 5;
  r.burst_seconds = 1;      // 5 at once
  r.limit_loopback = true;  // the test's only source is loopback
  auto s = limited(r);
  std::vector<std::unique_ptr<raw_client>> clients;
  int refused = 0;
  for (int i = 0; i < 10; ++i) {
    clients.push_back(std::make_unique<raw_client>("127.0.0.1", s->port()));
    clients.back()->send(raw_client::header());
  }
  for (auto& c : clients) {
    std::string got = c->read_until("</stream:features>", 2s);
    if (got.empty()) {
      std::string rest = c->read_to_close(3s);
      if (rest.find("too many new connections") != std::string::npos) ++refused;
    }
  }
  EXPECT_GE(refused, 4) << "5 fit the burst; the rest come faster than 5/s";
  EXPECT_LE(refused, 5);
  // A second later the address has its rate back.
  std::this_thread::sleep_for(1200ms);
  raw_client later("127.0.0.1", s->port());
  EXPECT_FALSE(later.negotiate().empty());
}

TEST(Wire11RateLimits, LoopbackIsNotHeldToTheConnectionRateByDefault) {
  rate_policy r;
  r.connections_per_second = 1;
  r.burst_seconds = 1;
  auto s = limited(r);
  std::vector<std::unique_ptr<raw_client>> clients;
  for (int i = 0; i < 5; ++i) {
    clients.push_back(std::make_unique<raw_client>("127.0.0.1", s->port()));
    EXPECT_FALSE(clients.back()->negotiate().empty());
  }
}

TEST(Wire11RateLimits, DefaultsLeaveADeviceThatReportsAndAsksAlone) {
  auto s = limited(rate_policy{});
  raw_client c("127.0.0.1", s->port());
  c.negotiate();
  // A burst far above one report a second plus recommendations: within the
  // default burst, so answered at once.
  std::string burst;
  for (int i = 0; i < 200; ++i) burst += report(std::string("d").append(std::to_string(i)));
  c.send(burst);
  auto took = pings(c, 100);
  EXPECT_LT(took, 3s);
  ASSERT_TRUE(sync(c));
  EXPECT_EQ(open_test_store(*s)->count_reports().value(), 200u);
}

TEST(RateLimits, TokenBucketGoesIntoDebtAndPaysBack) {
  token_bucket b;
  const auto t0 = clk::now();
  b.take(10, t0, 10, 10);  // the full bucket pays for 10
  EXPECT_EQ(b.wait_for(10).count(), 0);
  b.take(5, t0, 10, 10);  // 5 in debt: half a second at 10/s
  EXPECT_NEAR(std::chrono::duration<double>(b.wait_for(10)).count(), 0.5, 0.01);
  b.take(0, t0 + 500ms, 10, 10);
  EXPECT_EQ(b.wait_for(10).count(), 0);
  EXPECT_FALSE(b.full(t0 + 500ms, 10, 10));
  EXPECT_TRUE(b.full(t0 + 2s, 10, 10));
}

}  // namespace
}  // namespace iotxmpp::test
