// 12: XEP-0198 stream management (PROTOCOL.md §3.5). The server's <a/>
// answers <r/> only once every report before it is committed (h counts a
// report at commit), it asks subscribers for acks, it refuses an h higher
// than what it sent, and a dropped connection resumes with its JID and
// the feed stanzas it missed.

#include <thread>

#include <sqlite3.h>

#include "support/process.hpp"
#include "support/scratch_db.hpp"
#include "support/sqlite_lock.hpp"
#include "wire/wire_fixture.hpp"

namespace iotxmpp::test {
namespace {

using namespace std::chrono_literals;
constexpr const char* sm = "urn:xmpp:sm:3";

std::string enable(raw_client& c) {
  c.send(std::string("<enable xmlns='") + sm + "' resume='true'/>");
  return c.read_until("/>");
}

TEST(Wire12StreamManagement, OfferedAfterBindAndEnabledOnce) {
  test_server s;
  raw_client c("127.0.0.1", s.port());
  c.send(raw_client::header());
  c.read_until("</stream:features>");
  c.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='ANONYMOUS'/>");
  c.read_until("/>");
  c.send(raw_client::header());
  std::string f = c.read_until("</stream:features>");
  EXPECT_NE(f.find("<sm xmlns='urn:xmpp:sm:3'/>"), std::string::npos) << f;
  // Before bind: enable is unexpected, resume finds no session.
  c.send(std::string("<enable xmlns='") + sm + "'/>");
  EXPECT_NE(c.read_until("</failed>").find("<unexpected-request"), std::string::npos);
  c.send(std::string("<resume xmlns='") + sm + "' previd='nope' h='0'/>");
  EXPECT_NE(c.read_until("</failed>").find("<item-not-found"), std::string::npos);
  c.send("<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>");
  c.read_until("</iq>");
  // <r/> before <enable/> is unexpected too.
  c.send(std::string("<r xmlns='") + sm + "'/>");
  EXPECT_NE(c.read_until("</failed>").find("<unexpected-request"), std::string::npos);
  std::string e = enable(c);
  EXPECT_NE(e.find("<enabled xmlns='urn:xmpp:sm:3' id='"), std::string::npos) << e;
  EXPECT_NE(e.find("' resume='true' max='300'/>"), std::string::npos) << e;
  EXPECT_NE(enable(c).find("<failed"), std::string::npos) << "enabled once";
}

TEST(Wire12StreamManagement, HCountsEveryStanzaAndReportsOnlyOnceStored) {
  test_server s;
  raw_client c("127.0.0.1", s.port());
  c.negotiate();
  enable(c);
  c.send(report("r1") + report("r2") + report("r3") + ping("p1") + "<presence/>");
  c.send(std::string("<r xmlns='") + sm + "'/>");
  std::string got = c.read_until("<a xmlns='urn:xmpp:sm:3'");
  ASSERT_FALSE(got.empty());
  got += c.read_until("/>");
  EXPECT_NE(got.find("h='5'"), std::string::npos) << got;
  // The rows were visible before the <a/> left.
  EXPECT_EQ(open_test_store(s)->count_reports().value(), 3u);
}

TEST(Wire12StreamManagement, TheAckWaitsForTheCommit) {
  std::string why;
  bool misconfigured = false;
  if (mariadb_url(why, misconfigured).empty() && !misconfigured) GTEST_SKIP() << why;
  scratch_db db(engine::mysql, "smack");
  ASSERT_EQ(db.setup_error(), "");
  const store_url url = *store_url::parse(db.url());
  test_server s([&](server_options& o) { o.store_url = db.url(); });
  raw_client c("127.0.0.1", s.port());
  c.negotiate();
  enable(c);
  const std::string mariadb = "mariadb --protocol=tcp -h " + url.host + " -P " +
                              std::to_string(url.port) + " -u " + url.user +
                              (url.password.empty() ? "" : " -p" + url.password) + " " +
                              url.database + " -N -e ";
  std::thread locker([&] {
    std::system(
        (mariadb + "\"LOCK TABLES readings WRITE; SELECT SLEEP(1.5); UNLOCK TABLES\"").c_str());
  });
  std::this_thread::sleep_for(400ms);  // the lock is taken
  c.send(report("locked-1"));
  c.send(std::string("<r xmlns='") + sm + "'/>");
  EXPECT_EQ(c.read_until("<a xmlns", 700ms), "") << "no ack while the row cannot be written";
  std::string got = c.read_until("<a xmlns", 5s);
  locker.join();
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(open_test_store(s)->count_reports().value(), 1u) << "acked means stored";
}

TEST(Wire12StreamManagement, AnHigherThanWhatWasSentEndsTheStream) {
  test_server s;
  raw_client c("127.0.0.1", s.port());
  c.negotiate();
  enable(c);
  c.send(ping("one"));
  c.read_until("</iq>");
  c.send(std::string("<a xmlns='") + sm + "' h='7'/>");
  std::string got = c.read_to_close();
  EXPECT_NE(got.find("<undefined-condition"), std::string::npos) << got;
  EXPECT_NE(got.find("<handled-count-too-high xmlns='urn:xmpp:sm:3' h='7' send-count='1'/>"),
            std::string::npos)
      << got;
}

TEST(Wire12StreamManagement, TheServerAsksSubscribersForAcks) {
  test_server s;
  raw_client follower("127.0.0.1", s.port());
  follower.negotiate("follower");
  enable(follower);
  follower.send(
      "<iq type='set' id='sub' to='iot.local'><subscribe xmlns='urn:iotxmpp:feed:0' "
      "room='hall'/></iq>");
  follower.read_until("id='sub'");
  follower.read_until(">");
  raw_client device("127.0.0.1", s.port());
  device.negotiate("device");
  for (int i = 0; i < 12; ++i)
    device.send(report(std::string("h").append(std::to_string(i)), "hall"));
  ASSERT_TRUE(sync(device));
  std::string got = follower.read_until("<r xmlns='urn:xmpp:sm:3'/>", 5s);
  ASSERT_FALSE(got.empty()) << "after 10 unacknowledged stanzas the server asks";
  // Everything received so far: the subscribe result and the feed messages.
  std::size_t stanzas = 1;
  for (std::size_t at = 0; (at = got.find("<message", at)) != std::string::npos; ++at) ++stanzas;
  follower.send(std::string("<a xmlns='") + sm + "' h='" + std::to_string(stanzas) + "'/>");
  ASSERT_TRUE(sync(follower, "still-here"));
  EXPECT_FALSE(follower.closed());
}

// A report the database refuses for good (here a trigger refuses one room)
// is answered with an error stanza naming it, before the <a/> that counts
// it; the reports beside it are stored (PROTOCOL.md §3.5).
TEST(Wire12StreamManagement, ARefusedReportIsAnErrorBeforeTheAckThatCountsIt) {
  test_server s;
  {
    const std::string path = s.store_url().substr(std::string("sqlite:").size());
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    char* why = nullptr;
    int rc = sqlite3_exec(db,
                          "CREATE TRIGGER refuse_vault BEFORE INSERT ON readings "
                          "WHEN NEW.room = 'vault' BEGIN SELECT RAISE(ABORT, 'no vault'); END",
                          nullptr, nullptr, &why);
    std::string message = why ? why : "";
    sqlite3_free(why);
    sqlite3_close(db);
    ASSERT_EQ(rc, SQLITE_OK) << message;
  }
  raw_client c("127.0.0.1", s.port());
  c.negotiate();
  enable(c);
  c.send(report("ok1") + report("bad1", "vault") + report("ok2"));
  c.send(std::string("<r xmlns='") + sm + "'/>");
  std::string got = c.read_until("<a xmlns='urn:xmpp:sm:3'");
  got += c.read_until("/>");
  const auto error = got.find("id='bad1' type='error'");
  ASSERT_NE(error, std::string::npos) << got;
  EXPECT_LT(error, got.find("<a xmlns='urn:xmpp:sm:3'")) << got;
  EXPECT_NE(got.find("<internal-server-error", error), std::string::npos) << got;
  EXPECT_NE(got.find("h='3'"), std::string::npos) << got;
  EXPECT_EQ(got.find("id='ok1' type='error'"), std::string::npos) << got;
  EXPECT_EQ(open_test_store(s)->count_reports().value(), 2u);
  // The error is a stanza the server counts: our <a h='1'/> acknowledges
  // it, and a request of ours is answered with the next report counted.
  c.send(std::string("<a xmlns='") + sm + "' h='1'/>" + report("ok3") + "<r xmlns='" + sm + "'/>");
  got = c.read_until("<a xmlns='urn:xmpp:sm:3'");
  got += c.read_until("/>");
  EXPECT_NE(got.find("h='4'"), std::string::npos) << got;
  EXPECT_EQ(got.find("<stream:error"), std::string::npos) << got;
}

TEST(Wire12StreamManagement, LibstropheEnablesItAndGetsItsAck) {
  test_server s;
  auto r = run_process(
      {IOTXMPP_STROPHE_DEVICE, "127.0.0.1", std::to_string(s.port()), "attic", "strophe-sm"}, {},
      std::chrono::seconds(20), {"STROPHE_DEBUG=1", "STROPHE_SM_REQUEST=1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("<enable xmlns=\"urn:xmpp:sm:3\""), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("RECV: <enabled "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("resume=\"true\""), std::string::npos) << r.err;
  // h='1': the report (libstrophe's <r/> came before its IQ).
  EXPECT_NE(r.err.find("RECV: <a h=\"1\" xmlns=\"urn:xmpp:sm:3\"/>"), std::string::npos) << r.err;
  // The ack came after the commit: the report is there.
  EXPECT_EQ(open_test_store(s)->count_reports().value(), 1u);
}

}  // namespace
}  // namespace iotxmpp::test

namespace iotxmpp::test {
namespace {

// ANONYMOUS and a restart, up to where bind (or resume) goes.
void authenticate(raw_client& c) {
  c.send(raw_client::header());
  c.read_until("</stream:features>");
  c.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='ANONYMOUS'/>");
  c.read_until("/>");
  c.send(raw_client::header());
  c.read_until("</stream:features>");
}

std::string attribute(const std::string& xml, const std::string& name) {
  auto at = xml.find(name + "='");
  if (at == std::string::npos) return {};
  at += name.size() + 2;
  return xml.substr(at, xml.find('\'', at) - at);
}

TEST(Wire12Resumption, ADroppedConnectionResumesWithItsJidAndMissedFeedStanzas) {
  test_server s;
  auto first = std::make_unique<raw_client>("127.0.0.1", s.port());
  const std::string jid = first->negotiate("watcher");
  first->send(std::string("<enable xmlns='") + sm + "' resume='true'/>");
  std::string enabled = first->read_until("/>");
  const std::string id = attribute(enabled, "id");
  ASSERT_FALSE(id.empty()) << enabled;
  EXPECT_NE(enabled.find("resume='true' max='300'"), std::string::npos) << enabled;
  first->send(
      "<iq type='set' id='sub' to='iot.local'><subscribe xmlns='urn:iotxmpp:feed:0' "
      "room='hall'/></iq>");
  first->read_until("id='sub'");
  first->read_until(">");
  first.reset();  // the TCP connection is gone without a word

  raw_client device("127.0.0.1", s.port());
  device.negotiate("device");
  for (int i = 0; i < 3; ++i) device.send(report("missed" + std::to_string(i), "hall"));
  ASSERT_TRUE(sync(device));

  raw_client again("127.0.0.1", s.port());
  authenticate(again);
  // We had 1 stanza (the subscribe result); the server had handled 1 of ours.
  again.send(std::string("<resume xmlns='") + sm + "' previd='" + id + "' h='1'/>");
  std::string resumed = again.read_until("/>");
  EXPECT_NE(resumed.find("<resumed xmlns='urn:xmpp:sm:3' previd='" + id + "' h='1'/>"),
            std::string::npos)
      << resumed;
  std::string missed = again.read_until("missed2");
  EXPECT_NE(missed.find("missed0"), std::string::npos) << missed;
  EXPECT_NE(missed.find("missed1"), std::string::npos) << missed;
  // The same full JID goes on.
  again.read_until("</message>");
  again.send(ping("who"));
  std::string pong = again.read_until("id='who'");
  pong += again.read_until(">");
  EXPECT_NE(pong.find("to='" + jid + "'"), std::string::npos) << pong;
}

// <resumed h/> vouches for the reports it counts: while their commit is
// held up (another writer holds SQLite's lock) the answer waits, and comes
// once they are stored. A newer <resume/> of the same stream takes the
// place of the one waiting, which fails.
TEST(Wire12Resumption, ResumedWaitsUntilTheStreamsReportsAreCommitted) {
  test_server s;
  auto first = std::make_unique<raw_client>("127.0.0.1", s.port());
  first->negotiate("held");
  first->send(std::string("<enable xmlns='") + sm + "' resume='true'/>");
  const std::string id = attribute(first->read_until("/>"), "id");
  ASSERT_FALSE(id.empty());
  sqlite_lock lock(s.store_url());
  lock.hold();
  for (int i = 0; i < 3; ++i) first->send(report("held" + std::to_string(i), "hall"));
  // Answered at once (it vouches for no write): the reports were read.
  first->send("<iq type='get' id='v' to='iot.local'><query xmlns='jabber:iq:version'/></iq>");
  ASSERT_NE(first->read_until("id='v'", 10s), "");
  first.reset();  // gone without a word, its reports not committed

  raw_client waiting("127.0.0.1", s.port());
  authenticate(waiting);
  waiting.send(std::string("<resume xmlns='") + sm + "' previd='" + id + "' h='0'/>");
  EXPECT_EQ(waiting.read_until("<resumed", 800ms), "") << "resumed before the commit";

  raw_client newer("127.0.0.1", s.port());
  authenticate(newer);
  newer.send(std::string("<resume xmlns='") + sm + "' previd='" + id + "' h='0'/>");
  std::string failed = waiting.read_until("</failed>", 10s);
  EXPECT_NE(failed.find("item-not-found"), std::string::npos) << failed;
  EXPECT_EQ(newer.read_until("<resumed", 300ms), "") << "resumed before the commit";

  auto db = open_test_store(s);
  ASSERT_EQ(db->count_reports().value(), 0u) << "the lock did not hold the writer";
  lock.release();
  // 3 reports and the version query handled.
  std::string resumed = newer.read_until("/>", 30s);
  EXPECT_NE(resumed.find("<resumed xmlns='urn:xmpp:sm:3' previd='" + id + "' h='4'/>"),
            std::string::npos)
      << resumed;
  EXPECT_EQ(db->count_reports().value(), 3u) << "resumed before every report was stored";
}

TEST(Wire12Resumption, UnknownOrExpiredStreamsFailWithItemNotFound) {
  test_server s([](server_options& o) { o.config.resume_window = std::chrono::milliseconds(300); });
  raw_client c("127.0.0.1", s.port());
  authenticate(c);
  c.send(std::string("<resume xmlns='") + sm + "' previd='nope' h='0'/>");
  EXPECT_NE(c.read_until("</failed>").find("<item-not-found"), std::string::npos);

  auto first = std::make_unique<raw_client>("127.0.0.1", s.port());
  first->negotiate("gone");
  first->send(std::string("<enable xmlns='") + sm + "' resume='true'/>");
  const std::string id = attribute(first->read_until("/>"), "id");
  ASSERT_FALSE(id.empty());
  first.reset();
  std::this_thread::sleep_for(1500ms);  // past the window (and a sweep)
  raw_client late("127.0.0.1", s.port());
  authenticate(late);
  late.send(std::string("<resume xmlns='") + sm + "' previd='" + id + "' h='0'/>");
  EXPECT_NE(late.read_until("</failed>").find("<item-not-found"), std::string::npos);
  // The stream can still bind after a failed resume.
  late.send("<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>");
  EXPECT_NE(late.read_until("</iq>").find("<jid>"), std::string::npos);
}

}  // namespace
}  // namespace iotxmpp::test
