// A COMMIT whose reply is lost: a proxy cuts the connection right after the
// server has read COMMIT, so the batch commits while the client sees a lost
// connection. A retry with the batch's token stores nothing twice (store.hpp,
// "Idempotent commits"); a retry without it would. MySQL only: SQLite's
// COMMIT has no reply to lose.

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <thread>

#include "core/base/random_id.hpp"
#include "core/store/store_writer.hpp"
#include "support/commit_cutting_proxy.hpp"
#include "support/scratch_db.hpp"
#include "support/store_records.hpp"

namespace iotxmpp {
namespace {

using namespace std::chrono_literals;

constexpr int reports_per_batch = 20;
constexpr int recommendations_per_batch = 2;

// Reports without a stanza id (nothing else would deduplicate them) and
// recommendations, under one token.
write_batch idless_batch(std::string token) {
  write_batch b;
  b.token = std::move(token);
  for (int i = 0; i < reports_per_batch; ++i)
    b.reports.push_back(test::make_report("room-cut", "", test::micros_at(i)));
  for (int i = 0; i < recommendations_per_batch; ++i)
    b.recommendations.push_back(test::make_recommendation("room-cut", test::micros_at(i)));
  return b;
}

class StoreCommitCut : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = std::make_unique<test::scratch_db>(test::engine::mysql, "commit_cut");
    if (!db_->skip_reason().empty()) GTEST_SKIP() << db_->skip_reason();
    ASSERT_EQ(db_->setup_error(), "");
    auto url = store_url::parse(db_->url());
    ASSERT_TRUE(url) << url.error().message;
    direct_ = open_store(db_->url()).value();
    ASSERT_TRUE(direct_->migrate());
    proxy_ = std::make_unique<test::commit_cutting_proxy>(url->host, url->port);
    ASSERT_TRUE(proxy_->listening());
    via_proxy_ = proxy_->url_for(db_->url());
  }

  // Applies `batch` through the proxy with its next COMMIT cut.
  void apply_cut(const write_batch& batch) {
    auto s = open_store(via_proxy_);
    ASSERT_TRUE(s) << s.error().message;
    proxy_->arm();
    auto r = (*s)->apply(batch);
    ASSERT_FALSE(r) << "the COMMIT was not cut";
    EXPECT_EQ(r.error().kind, error_kind::connect) << r.error().message;
    EXPECT_NE(r.error().message.find("may have committed"), std::string::npos) << r.error().message;
    EXPECT_EQ(proxy_->cuts(), 1);
  }

  std::size_t reports() { return direct_->count_reports().value(); }
  std::size_t recommendations() { return direct_->count_recommendations().value(); }

  std::unique_ptr<test::scratch_db> db_;
  std::unique_ptr<store> direct_;
  std::unique_ptr<test::commit_cutting_proxy> proxy_;
  std::string via_proxy_;
};

TEST_F(StoreCommitCut, RetryWithTheSameTokenWritesNothingTwice) {
  write_batch batch = idless_batch(random_hex(32));
  ASSERT_NO_FATAL_FAILURE(apply_cut(batch));
  // The retry's token insert waits for the cut COMMIT if the server is still
  // at it, then finds the token: success, nothing written.
  auto retry = direct_->apply(batch);
  ASSERT_TRUE(retry) << retry.error().message;
  EXPECT_EQ(reports(), static_cast<std::size_t>(reports_per_batch));
  EXPECT_EQ(recommendations(), static_cast<std::size_t>(recommendations_per_batch));
}

// The cut really lands after the server committed: what a retry without the
// token check (here: under a fresh token) writes comes on top.
TEST_F(StoreCommitCut, WithoutTheTokenCheckTheRetryStoresTheBatchTwice) {
  ASSERT_NO_FATAL_FAILURE(apply_cut(idless_batch(random_hex(32))));
  auto retry = direct_->apply(idless_batch(random_hex(32)));
  ASSERT_TRUE(retry) << retry.error().message;
  // The cut COMMIT may still be finishing on the server: wait for it.
  auto give_up = std::chrono::steady_clock::now() + 10s;
  while (reports() < 2 * reports_per_batch && std::chrono::steady_clock::now() < give_up)
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(reports(), static_cast<std::size_t>(2 * reports_per_batch));
  EXPECT_EQ(recommendations(), static_cast<std::size_t>(2 * recommendations_per_batch));
}

TEST_F(StoreCommitCut, WriterRetriesACutCommitAndStoresEachReportOnce) {
  constexpr int total = 200;
  std::atomic<int> ok{0}, failed{0};
  writer_stats stats;
  {
    // One batch for everything (max_delay): the cut takes all of it.
    store_writer writer([url = via_proxy_] { return open_store(url); },
                        {.max_delay = 200ms, .retry_min = 10ms, .retry_max = 50ms});
    proxy_->arm();
    auto done = [&](const result<void>& r) { (r ? ok : failed)++; };
    for (int i = 0; i < total; ++i) {
      writer.submit_wait(test::make_report("room-" + std::to_string(i % 5), "", test::micros_at(i)),
                         done);
      if (i % 20 == 0)
        writer.submit_wait(test::make_recommendation("room-0", test::micros_at(i)), done);
    }
    writer.flush();
    stats = writer.stats();
  }
  EXPECT_EQ(proxy_->cuts(), 1);
  EXPECT_GE(stats.retries, 1u);
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(ok, total + total / 20);
  EXPECT_EQ(reports(), static_cast<std::size_t>(total));
  EXPECT_EQ(recommendations(), static_cast<std::size_t>(total / 20));
}

}  // namespace
}  // namespace iotxmpp
