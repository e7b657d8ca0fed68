// 15: acknowledged means stored, over real sockets (PROTOCOL.md §3.5).
// While the store writer cannot commit, a ping's answer and an XEP-0198
// <a/> are withheld, and they come once it can. Through a database outage
// (the SQLite file locked by another connection; MariaDB killed and
// restarted) devices keep sending, one of them loses its connection and
// resends what was not acknowledged, and afterwards every report is
// acknowledged and stored exactly once.

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

#include "core/store/store_writer.hpp"
#include "support/eventually.hpp"
#include "support/private_mariadb.hpp"
#include "support/reporting_device.hpp"
#include "support/scratch_db.hpp"
#include "support/sqlite_lock.hpp"
#include "wire/wire_fixture.hpp"

namespace iotxmpp::test {
namespace {

using namespace std::chrono_literals;

std::string version_query(std::string_view id) {
  return "<iq type='get' id='" + std::string(id) +
         "' to='iot.local'><query xmlns='jabber:iq:version'/></iq>";
}

TEST(Wire15WithheldAcks, PingAndStreamManagementAcksWaitWhileTheWriterIsHeld) {
  test_server server;
  raw_client pinger("127.0.0.1", server.port());
  pinger.negotiate("pinger");
  raw_client smd("127.0.0.1", server.port());
  smd.negotiate("smd");
  smd.send("<enable xmlns='urn:xmpp:sm:3'/>");
  ASSERT_NE(smd.read_until("<enabled"), "");
  smd.read_until("/>");
  pinger.send(report("before"));
  ASSERT_TRUE(sync(pinger, "s0"));
  auto db = open_test_store(server);
  ASSERT_EQ(db->count_reports().value(), 1u);

  // Another connection holds the database's write lock: the server's writer
  // cannot commit.
  sqlite_lock lock(server.store_url());
  lock.hold();
  pinger.send(report("held-1", "kitchen"));
  pinger.send(ping("p-held"));
  smd.send(report("held-2", "hall"));
  smd.send("<r xmlns='urn:xmpp:sm:3'/>");
  // Both sessions go on: a version query after the barrier is answered now,
  // so the server has read the reports and the barriers.
  pinger.send(version_query("v-p"));
  smd.send(version_query("v-s"));
  std::string p = pinger.read_until("id='v-p'", 10s);
  std::string s = smd.read_until("id='v-s'", 10s);
  ASSERT_NE(p, "") << "the session stopped answering";
  ASSERT_NE(s, "") << "the session stopped answering";
  EXPECT_EQ(p.find("p-held"), std::string::npos) << "ping answered before the commit: " << p;
  EXPECT_EQ(s.find("<a "), std::string::npos) << "<a/> before the commit: " << s;
  // And nothing comes while the lock is held.
  EXPECT_EQ(pinger.read_until("id='p-held'", 1500ms), "");
  EXPECT_EQ(smd.read_until("<a ", 500ms), "");
  EXPECT_EQ(db->count_reports().value(), 1u) << "the lock did not hold the writer";

  lock.release();
  std::string answer = pinger.read_until("id='p-held'", 30s);
  ASSERT_NE(answer, "") << "the ping was never answered";
  answer += pinger.read_until(">");
  EXPECT_NE(answer.find("type='result'"), std::string::npos) << answer;
  std::string ack = smd.read_until("/>", 30s);
  // h: the report, the version query (the <r/> is no stanza).
  EXPECT_NE(ack.find("<a xmlns='urn:xmpp:sm:3' h='1'/>"), std::string::npos) << ack;
  EXPECT_EQ(db->count_reports().value(), 3u);
}

// The database goes away for a while and comes back.
class outage {
 public:
  virtual ~outage() = default;
  virtual std::string url() const = 0;
  virtual void begin() = 0;
  virtual void end() = 0;
  // How often each report id is stored.
  virtual std::map<std::string, int> stored() = 0;
};

// Another connection holds the SQLite file's write lock.
class sqlite_outage : public outage {
 public:
  sqlite_outage() : db_(engine::sqlite, "outage") {}
  std::string url() const override { return db_.url(); }
  void begin() override {
    if (!lock_) lock_ = std::make_unique<sqlite_lock>(db_.url());
    lock_->hold();
  }
  void end() override { lock_->release(); }
  std::map<std::string, int> stored() override {
    std::map<std::string, int> n;
    for (auto& id : stored_report_ids(db_.url())) ++n[id];
    return n;
  }

 private:
  scratch_db db_;
  std::unique_ptr<sqlite_lock> lock_;
};

// A MariaDB of the test's own, SIGKILLed and started again.
class mariadb_outage : public outage {
 public:
  mariadb_outage() {
    if (auto e = server_.run("start"); !e.empty()) throw std::runtime_error(e);
    db_ = std::make_unique<scratch_db>(server_.url(), "outage");
    if (!db_->setup_error().empty()) throw std::runtime_error(db_->setup_error());
  }
  std::string url() const override { return db_->url(); }
  void begin() override {
    if (auto e = server_.run("kill"); !e.empty()) throw std::runtime_error(e);
  }
  void end() override {
    if (auto e = server_.run("restart"); !e.empty()) throw std::runtime_error(e);
  }
  std::map<std::string, int> stored() override {
    const auto u = *store_url::parse(db_->url());
    const std::string cmd = "mariadb --no-defaults --protocol=tcp -h " + u.host + " -P " +
                            std::to_string(u.port) + " -u " + u.user +
                            (u.password.empty() ? "" : " -p" + u.password) + " " + u.database +
                            " -N -e 'SELECT stanza_id FROM readings WHERE stanza_id IS NOT NULL'";
    std::map<std::string, int> n;
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) throw std::runtime_error("popen failed");
    char line[512];
    while (std::fgets(line, sizeof line, p)) {
      std::string id(line);
      while (!id.empty() && (id.back() == '\n' || id.back() == '\r')) id.pop_back();
      ++n[id];
    }
    if (pclose(p) != 0) throw std::runtime_error("reading the ids failed: " + cmd);
    return n;
  }

 private:
  private_mariadb server_;
  std::unique_ptr<scratch_db> db_;
};

class Wire15Outage : public ::testing::TestWithParam<engine> {};

TEST_P(Wire15Outage, NothingIsLostAndEachReportIsStoredOnce) {
  std::unique_ptr<outage> db;
  if (GetParam() == engine::sqlite) {
    db = std::make_unique<sqlite_outage>();
  } else {
    std::string why;
    bool misconfigured = false;
    if (mariadb_url(why, misconfigured).empty() && !misconfigured)
      GTEST_SKIP() << why;  // run by hand: the MariaDB tests are off
    db = std::make_unique<mariadb_outage>();
  }
  test_server server([&](server_options& o) {
    o.store_url = db->url();
    o.writer.retry_min = 50ms;
    o.writer.retry_max = 500ms;
  });

  auto device = [&](std::string name, std::string room, ack_by acks,
                    std::vector<std::string> resend = {}) {
    reporting_device_options o;
    o.port = server.port();
    o.name = std::move(name);
    o.room = std::move(room);
    o.acks = acks;
    o.batch = 5;
    o.pause = 10ms;
    o.resend = std::move(resend);
    return std::make_unique<reporting_device>(o);
  };
  std::vector<std::unique_ptr<reporting_device>> devices;
  devices.push_back(device("a", "room-a", ack_by::ping));
  devices.push_back(device("b", "room-b", ack_by::stream_management));
  devices.push_back(device("c", "room-c", ack_by::ping));
  auto all = [&](auto pred) {
    return std::all_of(devices.begin(), devices.end(), [&](auto& d) { return pred(*d); });
  };
  ASSERT_TRUE(
      eventually([&] { return all([](auto& d) { return d.count().acknowledged >= 30; }); }, 60s));

  const auto retries_before = server.get().writer().stats().retries;
  db->begin();
  // Nothing sent from here can be committed before end(): no acknowledgement
  // may cover it.
  std::vector<std::size_t> sent_at_outage;
  for (auto& d : devices) sent_at_outage.push_back(d->count().sent);
  // The devices keep sending into the outage, and the server takes it.
  ASSERT_TRUE(eventually(
      [&] {
        return all([](auto& d) {
          auto c = d.count();
          return c.accepted >= c.acknowledged + 40;
        });
      },
      60s));
  // Device c loses its connection in the outage and comes back as c2 (the
  // same room), resending with the same ids everything not acknowledged.
  devices[2]->drop();
  const auto resend = devices[2]->unacknowledged_ids();
  ASSERT_FALSE(resend.empty());
  devices.push_back(device("c2", "room-c", ack_by::ping, resend));
  ASSERT_TRUE(eventually([&] { return devices[3]->count().accepted > resend.size(); }, 60s))
      << "the server takes the resends in the outage";
  // Away until the writer has given up an attempt and retries: SQLite's
  // busy wait is 10 s (sqlite_store.cpp), a killed MariaDB fails at once.
  ASSERT_TRUE(
      eventually([&] { return server.get().writer().stats().retries > retries_before; }, 90s))
      << "the writer never retried: the outage was not one";
  for (std::size_t i = 0; i < 3; ++i)
    EXPECT_LE(devices[i]->count().acknowledged, sent_at_outage[i])
        << devices[i]->jid() << ": a report sent in the outage was acknowledged";
  EXPECT_EQ(devices[3]->count().acknowledged, 0u);
  db->end();

  // Back: everything sent is acknowledged, the devices never noticed
  // anything but a delay.
  for (auto& d : devices) d->stop_sending();
  for (std::size_t i : {0u, 1u, 3u}) {
    auto& d = *devices[i];
    ASSERT_TRUE(eventually([&] { return d.count().acknowledged == d.count().sent; }, 60s))
        << d.jid() << ": " << d.count().acknowledged << " of " << d.count().sent;
    EXPECT_FALSE(d.ended()) << d.jid() << " " << d.stream_error();
  }
  std::size_t sent = 0;
  for (auto& d : devices) {
    d->stop();
    EXPECT_EQ(d->problems(), std::vector<std::string>{}) << d->jid();
    if (d != devices[2]) sent += d->count().sent;
  }
  server.stop();

  // Each id once: what a, b, c2 sent (c2 includes c's resends) and what c
  // had acknowledged; nothing else.
  const auto stored = db->stored();
  std::size_t rows = 0;
  for (const auto& [id, n] : stored) {
    EXPECT_EQ(n, 1) << id;
    rows += static_cast<std::size_t>(n);
  }
  for (std::size_t i : {0u, 1u, 3u})
    for (const auto& id : devices[i]->sent_ids())
      EXPECT_EQ(stored.count(id), 1u) << "acknowledged and not stored: " << id;
  for (const auto& id : devices[2]->acknowledged_ids())
    EXPECT_EQ(stored.count(id), 1u) << "acknowledged and not stored: " << id;
  EXPECT_EQ(rows, sent + devices[2]->count().acknowledged);
  std::printf("[ figures ] %s outage: %zu reports stored once each, %zu of them resent\n",
              engine_name(GetParam()).c_str(), rows, resend.size());
}

INSTANTIATE_TEST_SUITE_P(Engines, Wire15Outage, ::testing::Values(engine::sqlite, engine::mysql),
                         [](const auto& info) { return engine_name(info.param); });

}  // namespace
}  // namespace iotxmpp::test
