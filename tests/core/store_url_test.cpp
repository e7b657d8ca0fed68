// Store URLs, redaction, and what opening a store says when it cannot.

#include "core/store/store.hpp"

#include <unistd.h>

#include <gtest/gtest.h>

#include "support/scratch_db.hpp"

namespace iotxmpp {
namespace {

TEST(StoreUrl, ParsesBothForms) {
  auto s = store_url::parse("sqlite:data/iot.db");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->kind, store_url::engine::sqlite);
  EXPECT_EQ(s->path, "data/iot.db");
  auto m = store_url::parse("mysql://iot:p%40ss@w0rd@db.example:3307/telemetry");
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->kind, store_url::engine::mysql);
  EXPECT_EQ(m->user, "iot");
  EXPECT_EQ(m->password, "p@ss@w0rd");
  EXPECT_EQ(m->host, "db.example");
  EXPECT_EQ(m->port, 3307);
  EXPECT_EQ(m->database, "telemetry");
  EXPECT_EQ(m->redacted(), "mysql://iot:***@db.example:3307/telemetry");
  auto no_pw = store_url::parse("mysql://iot@[::1]/t");
  ASSERT_TRUE(no_pw) << no_pw.error().message;
  EXPECT_EQ(no_pw->redacted(), "mysql://iot@[::1]:3306/t");
}

TEST(StoreUrl, RefusesBadUrlsWithoutEchoingThePassword) {
  for (const char* bad : {"", "iot.db", "postgres://a@b/c", "mysql:a@b/c",
                          "sqlite:", "mysql://u:secret-pw@h:99999/db", "mysql://u:secret-pw@h/",
                          "mysql://u:secret-pw@h/bad;name", "mysql://:secret-pw@h/db"}) {
    auto u = store_url::parse(bad);
    ASSERT_FALSE(u) << bad;
    EXPECT_EQ(u.error().kind, error_kind::usage) << bad;
    EXPECT_EQ(u.error().message.find("secret-pw"), std::string::npos) << u.error().message;
  }
}

TEST(StoreConnect, RefusedPortIsAConnectErrorSayingSo) {
  std::string url =
      "mysql://iotxmpp:top-secret-pw@127.0.0.1:" + std::to_string(test::closed_port()) + "/x";
  auto s = open_store(url);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().kind, error_kind::connect);
  EXPECT_NE(s.error().message.find("connection refused"), std::string::npos) << s.error().message;
  EXPECT_EQ(s.error().message.find("top-secret-pw"), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find("iotxmpp:***@127.0.0.1"), std::string::npos)
      << s.error().message;
  auto created = create_database_if_missing(*store_url::parse(url));
  ASSERT_FALSE(created);
  EXPECT_EQ(created.error().kind, error_kind::connect);
}

TEST(StoreConnect, WrongPasswordAndUnknownDatabaseAreConnectErrors) {
  std::string why;
  bool misconfigured = false;
  std::string base = test::mariadb_url(why, misconfigured);
  ASSERT_FALSE(misconfigured) << why;
  if (base.empty()) GTEST_SKIP() << why;
  auto url = *store_url::parse(base);
  url.password = "wrong-secret-pw";
  auto s = open_store(url);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().kind, error_kind::connect);
  EXPECT_NE(s.error().message.find("access denied"), std::string::npos) << s.error().message;
  EXPECT_EQ(s.error().message.find("wrong-secret-pw"), std::string::npos) << s.error().message;

  auto missing = open_store(test::with_database(base, "iotxmpp_no_such_db"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, error_kind::connect);
  EXPECT_NE(missing.error().message.find("unknown database"), std::string::npos)
      << missing.error().message;
}

TEST(StoreConnect, UnopenableSqliteFileIsAnIoError) {
  auto s = open_store("sqlite:/nonexistent-dir/for/sure/iot.db");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().kind, error_kind::io);
  EXPECT_NE(s.error().message.find("/nonexistent-dir/for/sure/iot.db"), std::string::npos);

  char path[] = "/tmp/iotxmpp_notdb_XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "this is not a database, just text padding it out......", 54), 54);
  close(fd);
  auto not_db = open_store(std::string("sqlite:") + path);
  unlink(path);
  ASSERT_FALSE(not_db);
  EXPECT_EQ(not_db.error().kind, error_kind::io) << not_db.error().message;
}

}  // namespace
}  // namespace iotxmpp
