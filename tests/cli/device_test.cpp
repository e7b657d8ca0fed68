// iotxmpp device on both engines: every action through the real binary,
// what it prints, what it stores, and how it fails.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/sasl/scram_credentials.hpp"
#include "core/store/store.hpp"
#include "support/process.hpp"
#include "support/scratch_db.hpp"

namespace iotxmpp {
namespace {

using test::engine;
using test::process_result;
using test::run_iotxmpp;

constexpr const char* secret_prefix = "(shown once, not stored): ";

class CliDevice : public ::testing::TestWithParam<engine> {
 protected:
  void SetUp() override {
    db_ = std::make_unique<test::scratch_db>(GetParam(), "device");
    if (!db_->skip_reason().empty()) GTEST_SKIP() << db_->skip_reason();
    ASSERT_EQ(db_->setup_error(), "");
    dir_ = std::filesystem::temp_directory_path() /
           ("iotxmpp-device-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  // `iotxmpp device ARGS --db URL`.
  process_result device(std::vector<std::string> args, const std::string& input = {}) {
    args.insert(args.begin(), "device");
    args.push_back("--db");
    args.push_back(db_->url());
    return run_iotxmpp(args, input, std::chrono::seconds(120));
  }
  std::string write_file(const std::string& name, const std::string& text) {
    std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  std::optional<account> stored(const std::string& name) {
    auto s = open_store(db_->url());
    EXPECT_TRUE(s) << s.error().message;
    if (!s) return std::nullopt;
    auto a = (*s)->find_account(name);
    EXPECT_TRUE(a) << a.error().message;
    return a ? *a : std::nullopt;
  }
  // Whether `password` matches every stored hash of `name` (both must be there).
  ::testing::AssertionResult verifies(const std::string& name, const std::string& password) {
    auto a = stored(name);
    if (!a) return ::testing::AssertionFailure() << name << " is not stored";
    if (a->credentials.size() != 2) return ::testing::AssertionFailure() << "not two hashes";
    for (const account_credentials& c : a->credentials) {
      auto h = hash_from_name(c.hash);
      if (!h) return ::testing::AssertionFailure() << "unknown hash " << c.hash;
      scram_keys k{*h, c.salt, c.iterations, c.stored_key, c.server_key};
      if (!password_matches(k, password))
        return ::testing::AssertionFailure() << c.hash << " does not verify";
    }
    return ::testing::AssertionSuccess();
  }
  static std::string secret_in(const std::string& out) {
    auto at = out.find(secret_prefix);
    if (at == std::string::npos) return {};
    at += std::string_view(secret_prefix).size();
    return out.substr(at, out.find('\n', at) - at);
  }

  std::unique_ptr<test::scratch_db> db_;
  std::filesystem::path dir_;
};

TEST_P(CliDevice, AddGeneratesASecretPrintedOnceThatVerifies) {
  auto r = device({"add", "dev1", "--room", "kitchen", "--room", "lab-*"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string secret = secret_in(r.out);
  EXPECT_EQ(secret.size(), 32u) << r.out;
  EXPECT_EQ(
      secret.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
      std::string::npos);
  EXPECT_EQ(r.out, "password for dev1 " + std::string(secret_prefix) + secret + "\n");
  EXPECT_NE(r.err.find("added device dev1"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find(secret), std::string::npos);
  EXPECT_TRUE(verifies("dev1", secret));
  EXPECT_FALSE(verifies("dev1", secret + "x"));
  auto a = stored("dev1");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->rooms, (std::vector<std::string>{"kitchen", "lab-*"}));
  for (const auto& c : a->credentials) EXPECT_EQ(c.iterations, 4096u);
  EXPECT_NE(a->credentials[0].salt, a->credentials[1].salt);

  // Shown once: nothing prints it again, and another device gets another one.
  auto show = device({"show", "dev1"});
  EXPECT_EQ(show.out.find(secret), std::string::npos);
  auto other = device({"add", "dev2"});
  ASSERT_EQ(other.exit_code, 0) << other.err;
  EXPECT_NE(secret_in(other.out), secret);
}

TEST_P(CliDevice, AddFromAPasswordFileOrStdinPrintsNoSecret) {
  auto file = write_file("pw", "correct horse\n");
  auto r = device({"add", "dev1", "--password-file", file, "--iterations", "5000"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(verifies("dev1", "correct horse"));
  EXPECT_EQ(stored("dev1")->credentials[0].iterations, 5000u);

  auto in = device({"add", "dev2", "--password-file", "-"}, "from stdin\r\nsecond line\n");
  ASSERT_EQ(in.exit_code, 0) << in.err;
  EXPECT_TRUE(verifies("dev2", "from stdin"));

  auto empty = device({"add", "dev3", "--password-file", write_file("empty", "\n")});
  EXPECT_EQ(empty.exit_code, 2);
  EXPECT_EQ(empty.err, "iotxmpp: the password in " + (dir_ / "empty").string() + " is empty\n");
  auto missing = device({"add", "dev3", "--password-file", (dir_ / "nope").string()});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("cannot read the password file"), std::string::npos);
  auto few = device({"add", "dev3", "--iterations", "1000"});
  EXPECT_EQ(few.exit_code, 2);
  EXPECT_FALSE(stored("dev3"));
}

TEST_P(CliDevice, ListShowGrantRevokeDisableEnableRemove) {
  ASSERT_EQ(device({"add", "b", "--room", "hall"}).exit_code, 0);
  ASSERT_EQ(device({"add", "a"}).exit_code, 0);

  auto list = device({"list"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_EQ(list.out,
            "a enabled rooms=- last_login=never\n"
            "b enabled rooms=hall last_login=never\n");
  EXPECT_NE(list.err.find("2 devices"), std::string::npos);

  auto g = device({"grant", "a", "kitchen", "lab-*", "kitchen"});
  ASSERT_EQ(g.exit_code, 0) << g.err;
  EXPECT_EQ(g.out, "granted kitchen lab-* kitchen to a\n");
  EXPECT_EQ(stored("a")->rooms, (std::vector<std::string>{"kitchen", "lab-*"}));
  auto rv = device({"revoke", "a", "kitchen"});
  ASSERT_EQ(rv.exit_code, 0) << rv.err;
  EXPECT_EQ(rv.out, "revoked kitchen from a\n");
  EXPECT_EQ(stored("a")->rooms, std::vector<std::string>{"lab-*"});

  auto d = device({"disable", "a"});
  ASSERT_EQ(d.exit_code, 0) << d.err;
  EXPECT_EQ(d.out, "disabled device a\n");
  EXPECT_TRUE(stored("a")->disabled);
  auto show = device({"show", "a"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_NE(show.out.find("state: disabled\n"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("last login: never\n"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("rooms: lab-*\n"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("SCRAM-SHA-1 (4096 iterations), SCRAM-SHA-256 (4096 iterations)"),
            std::string::npos)
      << show.out;
  auto e = device({"enable", "a"});
  ASSERT_EQ(e.exit_code, 0) << e.err;
  EXPECT_FALSE(stored("a")->disabled);

  auto rm = device({"remove", "b"});
  ASSERT_EQ(rm.exit_code, 0) << rm.err;
  EXPECT_EQ(rm.out, "removed device b\n");
  EXPECT_FALSE(stored("b"));

  // What changed for live sessions was recorded: disable, revoke, remove.
  auto s = open_store(db_->url());
  ASSERT_TRUE(s);
  auto events = (*s)->account_events_after(0, 100);
  ASSERT_TRUE(events) << events.error().message;
  std::vector<std::string> kinds;
  for (const auto& ev : *events) kinds.push_back(ev.name + " " + std::string(to_string(ev.kind)));
  EXPECT_EQ(kinds, (std::vector<std::string>{"a revoked", "a disabled", "b removed"}));
}

TEST_P(CliDevice, JsonOfListAndShowHoldsNoKeys) {
  ASSERT_EQ(device({"add", "dev1", "--room", "kitchen"}).exit_code, 0);
  {
    auto s = open_store(db_->url());
    ASSERT_TRUE(s);
    write_batch b;
    b.logins.push_back({"dev1", clock::wall_now()});
    ASSERT_TRUE((*s)->apply(b));
  }
  auto list = device({"list", "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  auto arr = nlohmann::json::parse(list.out);
  ASSERT_TRUE(arr.is_array());
  ASSERT_EQ(arr.size(), 1u);
  auto show = device({"show", "dev1", "--json"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  auto j = nlohmann::json::parse(show.out);
  EXPECT_EQ(j, arr[0]);
  EXPECT_EQ(j["name"], "dev1");
  EXPECT_EQ(j["disabled"], false);
  EXPECT_EQ(j["rooms"], nlohmann::json::array({"kitchen"}));
  EXPECT_TRUE(j["last_login"].is_string());
  EXPECT_TRUE(j["created"].get<std::string>().ends_with("Z"));
  ASSERT_EQ(j["hashes"].size(), 2u);
  EXPECT_EQ(j["hashes"][1]["hash"], "SCRAM-SHA-256");
  EXPECT_EQ(j["hashes"][1]["iterations"], 4096);
  for (const char* key : {"salt", "stored_key", "server_key", "password"})
    EXPECT_EQ(show.out.find(key), std::string::npos) << key;
}

TEST_P(CliDevice, PasswdReplacesThePassword) {
  auto added = device({"add", "dev1"});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  std::string old = secret_in(added.out);
  auto r = device({"passwd", "dev1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string fresh = secret_in(r.out);
  ASSERT_EQ(fresh.size(), 32u) << r.out;
  EXPECT_NE(fresh, old);
  EXPECT_TRUE(verifies("dev1", fresh));
  EXPECT_FALSE(verifies("dev1", old));
  auto f = device({"passwd", "dev1", "--password-file", write_file("pw", "given\n")});
  ASSERT_EQ(f.exit_code, 0) << f.err;
  EXPECT_EQ(f.out, "");
  EXPECT_TRUE(verifies("dev1", "given"));
}

TEST_P(CliDevice, CountAddsAHundredWithPatternRooms) {
  auto pw = write_file("pw", "fleet\n");
  auto r = device({"add", "--count", "100", "--prefix", "node", "--room-pattern", "room-{n}",
                   "--room", "shared", "--password-file", pw});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("added 100 devices (node0001 .. node0100)"), std::string::npos) << r.err;
  auto list = device({"list", "--json"});
  auto arr = nlohmann::json::parse(list.out);
  ASSERT_EQ(arr.size(), 100u);
  auto a = stored("node0042");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->rooms, (std::vector<std::string>{"room-0042", "shared"}));
  EXPECT_TRUE(verifies("node0042", "fleet"));
  EXPECT_NE(stored("node0001")->credentials[0].salt, a->credentials[0].salt);

  // All or none: one taken name adds nothing.
  ASSERT_EQ(device({"remove", "node0050"}).exit_code, 0);
  auto again = device({"add", "--count", "60", "--prefix", "node", "--password-file", pw});
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_EQ(again.err, "iotxmpp: device node0001 exists\n");
  EXPECT_FALSE(stored("node0050"));

  auto no_file = device({"add", "--count", "3"});
  EXPECT_EQ(no_file.exit_code, 2);
  EXPECT_NE(no_file.err.find("needs --password-file"), std::string::npos) << no_file.err;
  auto bad = device({"add", "--count", "3", "--prefix", "Dev", "--password-file", pw});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("bad device name 'Dev0001'"), std::string::npos) << bad.err;
}

TEST_P(CliDevice, ErrorsAreOneLineWithExitCode2) {
  ASSERT_EQ(device({"add", "dev1"}).exit_code, 0);
  struct want {
    std::vector<std::string> args;
    std::string err;
  };
  for (const want& w : std::vector<want>{
           {{"add", "dev1"}, "iotxmpp: device dev1 exists\n"},
           {{"add", "Dev1"},
            "iotxmpp: bad device name 'Dev1': use 1-64 of a-z 0-9 . _ - starting with a letter "
            "or digit\n"},
           {{"add", "dev2", "--room", "a*b"},
            "iotxmpp: bad room grant 'a*b': '*' may only end a prefix (lab-*), and only once\n"},
           {{"grant", "dev1", "x**"},
            "iotxmpp: bad room grant 'x**': '*' may only end a prefix (lab-*), and only once\n"},
           {{"show", "ghost"}, "iotxmpp: device ghost does not exist\n"},
           {{"passwd", "ghost"}, "iotxmpp: device ghost does not exist\n"},
           {{"grant", "ghost", "r"}, "iotxmpp: device ghost does not exist\n"},
           {{"revoke", "ghost", "r"}, "iotxmpp: device ghost does not exist\n"},
           {{"disable", "ghost"}, "iotxmpp: device ghost does not exist\n"},
           {{"enable", "ghost"}, "iotxmpp: device ghost does not exist\n"},
           {{"remove", "ghost"}, "iotxmpp: device ghost does not exist\n"},
       }) {
    auto r = device(w.args);
    EXPECT_EQ(r.exit_code, 2) << w.args[0] << " " << w.args[1];
    EXPECT_EQ(r.err, w.err);
    EXPECT_EQ(r.out, "");
  }
  EXPECT_FALSE(stored("dev2"));
  auto no_action = run_iotxmpp({"device", "--db", db_->url()});
  EXPECT_EQ(no_action.exit_code, 2);
}

TEST_P(CliDevice, MigratesAnOlderSchemaFirst) {
  {
    auto s = open_store(db_->url());
    ASSERT_TRUE(s);
    ASSERT_TRUE((*s)->migrate_to(2));
  }
  auto r = device({"list"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  ASSERT_EQ(device({"add", "dev1"}).exit_code, 0);
}

INSTANTIATE_TEST_SUITE_P(Engines, CliDevice, ::testing::Values(engine::sqlite, engine::mysql),
                         [](const auto& info) { return test::engine_name(info.param); });

TEST(CliDeviceFails, UnreachableDatabaseIsExit3) {
  std::string url = "mysql://iot:pw@127.0.0.1:" + std::to_string(test::closed_port()) + "/x";
  auto r = run_iotxmpp({"device", "list", "--db", url});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

}  // namespace
}  // namespace iotxmpp
