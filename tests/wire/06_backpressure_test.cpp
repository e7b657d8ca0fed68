// 06: a full store writer slows devices down and loses nothing; a report the
// database refuses is not vouched for.

#include <sqlite3.h>

#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "support/scratch_db.hpp"
#include "wire/wire_fixture.hpp"

namespace iotxmpp::test {
namespace {

TEST(Wire06BackPressure, TinyWriterQueueStoresEveryPipelinedReport) {
  constexpr int clients = 4;
  constexpr int reports = 500;
  test_server server([](server_options& o) {
    o.writer.queue_capacity = 3;  // full almost all the time
    o.writer.max_batch = 2;
  });
  std::vector<std::unique_ptr<raw_client>> devices;
  for (int c = 0; c < clients; ++c) {
    devices.push_back(std::make_unique<raw_client>("127.0.0.1", server.port()));
    devices.back()->negotiate("bp" + std::to_string(c));
  }
  std::vector<std::thread> senders;
  for (int c = 0; c < clients; ++c) {
    senders.emplace_back([&, c] {
      std::string burst;  // all at once: the server must stall its reads
      for (int i = 0; i < reports; ++i)
        burst += report("bp-" + std::to_string(c) + "-" + std::to_string(i),
                        "room-" + std::to_string(c));
      devices[c]->send(burst);
    });
  }
  for (auto& t : senders) t.join();
  for (int c = 0; c < clients; ++c) ASSERT_TRUE(sync(*devices[c], "done" + std::to_string(c)));
  EXPECT_EQ(open_test_store(server)->count_reports().value(),
            static_cast<std::size_t>(clients * reports));
}

}  // namespace
}  // namespace iotxmpp::test

namespace iotxmpp::test {
namespace {

// The mariadb command-line client on `url`'s database, running `sql`.
int mariadb_exec(const store_url& url, const std::string& sql) {
  const std::string command = "mariadb --protocol=tcp -h " + url.host + " -P " +
                              std::to_string(url.port) + " -u " + url.user +
                              (url.password.empty() ? "" : " -p" + url.password) + " " +
                              url.database + " -e \"" + sql + "\"";
  return std::system(command.c_str());
}

// Makes the database refuse every readings row of `room` with a rule of its
// own that passes every limit of the server's: a CHECK on MariaDB, a
// trigger on SQLite (which cannot add a CHECK to a table).
void refuse_room_in_database(const std::string& url_text, const std::string& room) {
  const store_url url = *store_url::parse(url_text);
  if (url.kind == store_url::engine::mysql) {
    ASSERT_EQ(mariadb_exec(url,
                           "ALTER TABLE readings ADD CONSTRAINT refused_by_the_test CHECK "
                           "(room <> '" +
                               room + "')"),
              0);
    return;
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(url.path.c_str(), &db), SQLITE_OK);
  const std::string sql =
      "CREATE TRIGGER refused_by_the_test BEFORE INSERT ON readings WHEN "
      "NEW.room = '" +
      room + "' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END";
  char* message = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message);
  const std::string why = message ? message : "";
  sqlite3_free(message);
  sqlite3_close(db);
  ASSERT_EQ(rc, SQLITE_OK) << why;
}

// A report the database refuses (here by a rule the test adds, standing for
// any the server cannot know: a DBA's constraint, a trigger) is not vouched
// for: the ping after it is answered with an error, not a result. Every
// refusal the server can foresee, it makes itself first (a report over a
// field limit gets bad-request and never reaches the database: below).
class Wire06Lost : public ::testing::TestWithParam<engine> {};

TEST_P(Wire06Lost, PingAfterARefusedWriteIsAnError) {
  scratch_db db(GetParam(), "lost");
  if (!db.skip_reason().empty()) GTEST_SKIP() << db.skip_reason();
  ASSERT_EQ(db.setup_error(), "");
  {
    auto s = open_store(db.url());
    ASSERT_TRUE(s) << s.error().message;
    auto migrated = (*s)->migrate();
    ASSERT_TRUE(migrated) << migrated.error().message;
  }
  refuse_room_in_database(db.url(), "refused-room");
  if (HasFatalFailure()) return;
  test_server server([&](server_options& o) { o.store_url = db.url(); });
  raw_client device("127.0.0.1", server.port());
  device.negotiate("lost");
  device.send(report("refused", "refused-room"));
  device.send(ping("p1"));
  std::string got = device.read_until("id='p1'");
  got += device.read_until("</iq>");
  EXPECT_NE(got.find("type='error'"), std::string::npos) << got;
  EXPECT_NE(got.find("<internal-server-error"), std::string::npos) << got;
  // Told once: the next ping vouches for what came after.
  device.send(report("fine"));
  device.send(ping("p2"));
  got = device.read_until("id='p2'");
  got += device.read_until(">");
  EXPECT_NE(got.find("type='result'"), std::string::npos) << got;
  EXPECT_EQ(open_test_store(server)->count_reports().value(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Engines, Wire06Lost, ::testing::Values(engine::sqlite, engine::mysql),
                         [](const auto& info) { return engine_name(info.param); });

// A room over its limit (300 characters; the column holds 255) used to be
// accepted and then refused by the database, so the device learnt of it
// only from its next ping. It is refused up front now: bad-request naming
// the field and the limit, nothing stored, and the ping after it is a result.
TEST(Wire06OverLimit, ARoomOverItsLimitIsRefusedBeforeTheDatabase) {
  test_server server;
  raw_client device("127.0.0.1", server.port());
  device.negotiate("over");
  device.send(report("long-room", std::string(300, 'r')));
  device.send(ping("p1"));
  std::string got = device.read_until("</message>");
  EXPECT_NE(got.find("id='long-room'"), std::string::npos) << got;
  EXPECT_NE(got.find("type='error'"), std::string::npos) << got;
  EXPECT_NE(got.find("<bad-request xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"),
            std::string::npos)
      << got;
  EXPECT_NE(got.find("nodeId is 300 characters; the limit is 255"), std::string::npos) << got;
  got = device.read_until("id='p1'");
  got += device.read_until(">");
  EXPECT_NE(got.find("type='result'"), std::string::npos) << got;
  EXPECT_EQ(open_test_store(server)->count_reports().value(), 0u);
}

}  // namespace
}  // namespace iotxmpp::test
