// Device accounts in the store (store.hpp), run alike on SQLite and MariaDB.

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>

#include "core/store/schema.hpp"
#include "core/store/store.hpp"
#include "core/store/store_writer.hpp"
#include "support/scratch_db.hpp"
#include "support/store_records.hpp"

namespace iotxmpp {
namespace {

using test::engine;
using test::micros_at;
using what = account_event::what;

// Binary keys with a NUL and high bytes, so both engines must keep bytes.
account_credentials creds(std::string hash, char tag) {
  account_credentials c;
  c.hash = std::move(hash);
  c.salt = std::string("s\0\xff", 3) + tag;
  c.iterations = 4096;
  c.stored_key = std::string(20, tag) + std::string("\0\x80", 2);
  c.server_key = std::string("\0", 1) + std::string(19, tag);
  return c;
}

account make_account(std::string name, std::vector<std::string> rooms = {"lab-*"}) {
  account a;
  a.name = std::move(name);
  a.created = micros_at(10);
  a.credentials = {creds("SHA-1", 'a'), creds("SHA-256", 'b')};
  a.rooms = std::move(rooms);
  return a;
}

class AccountStore : public ::testing::TestWithParam<engine> {
 protected:
  void SetUp() override {
    db_ = std::make_unique<test::scratch_db>(GetParam(), "accounts");
    if (!db_->skip_reason().empty()) GTEST_SKIP() << db_->skip_reason();
    ASSERT_EQ(db_->setup_error(), "");
    s_ = open();
    ASSERT_TRUE(s_);
    auto m = s_->migrate();
    ASSERT_TRUE(m) << m.error().message;
  }
  std::unique_ptr<store> open() {
    auto s = open_store(db_->url());
    EXPECT_TRUE(s) << s.error().message;
    return s ? std::move(*s) : nullptr;
  }
  void add(std::vector<account> accounts) {
    auto r = s_->add_accounts(accounts);
    ASSERT_TRUE(r) << r.error().message;
  }
  account find(std::string_view name) {
    auto a = s_->find_account(name);
    EXPECT_TRUE(a) << a.error().message;
    EXPECT_TRUE(a && *a) << name << " not found";
    return a && *a ? **a : account{};
  }
  std::vector<account_event> events(std::int64_t after = 0) {
    auto e = s_->account_events_after(after, 1000);
    EXPECT_TRUE(e) << e.error().message;
    return e ? *e : std::vector<account_event>{};
  }
  static std::vector<std::string> names(const std::vector<account>& accounts) {
    std::vector<std::string> out;
    for (const account& a : accounts) out.push_back(a.name);
    return out;
  }

  std::unique_ptr<test::scratch_db> db_;
  std::unique_ptr<store> s_;
};

TEST_P(AccountStore, AddedAccountReadsBackByteForByte) {
  account a = make_account("dev1", {"lab-*", "kitchen"});
  a.last_login = micros_at(20);
  add({a});
  account got = find("dev1");
  EXPECT_EQ(got.name, "dev1");
  EXPECT_FALSE(got.disabled);
  EXPECT_EQ(got.created, micros_at(10));
  EXPECT_EQ(got.last_login, micros_at(20));
  EXPECT_EQ(got.rooms, (std::vector<std::string>{"kitchen", "lab-*"}));  // ordered
  ASSERT_EQ(got.credentials.size(), 2u);
  for (const char* hash : {"SHA-1", "SHA-256"}) {
    const account_credentials* want = a.credentials_for(hash);
    const account_credentials* have = got.credentials_for(hash);
    ASSERT_TRUE(have) << hash;
    EXPECT_EQ(have->salt, want->salt) << hash;
    EXPECT_EQ(have->iterations, 4096u);
    EXPECT_EQ(have->stored_key, want->stored_key) << hash;
    EXPECT_EQ(have->server_key, want->server_key) << hash;
  }
  // Another connection sees it too, and an unknown name is nullopt.
  auto other = open()->find_account("dev1");
  ASSERT_TRUE(other && *other);
  auto none = s_->find_account("nobody");
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_FALSE(*none);
  // Not added: no event.
  EXPECT_TRUE(events().empty());
  auto last = s_->last_account_event();
  ASSERT_TRUE(last) << last.error().message;
  EXPECT_EQ(*last, 0);
}

TEST_P(AccountStore, ListIsOrderedByNameWithEachAccountsOwnRows) {
  add({make_account("b", {"r-b"}), make_account("a", {"r-a"}), make_account("c", {})});
  auto all = s_->list_accounts();
  ASSERT_TRUE(all) << all.error().message;
  EXPECT_EQ(names(*all), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ((*all)[0].rooms, std::vector<std::string>{"r-a"});
  EXPECT_EQ((*all)[1].rooms, std::vector<std::string>{"r-b"});
  EXPECT_TRUE((*all)[2].rooms.empty());
  for (const account& a : *all) EXPECT_EQ(a.credentials.size(), 2u) << a.name;
}

TEST_P(AccountStore, AddIsAllOrNoneAndNamesTheTakenDevice) {
  add({make_account("dev2")});
  auto r = s_->add_accounts({make_account("dev1"), make_account("dev2"), make_account("dev3")});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, error_kind::usage);
  EXPECT_EQ(r.error().message, "device dev2 exists");
  auto all = s_->list_accounts();
  ASSERT_TRUE(all) << all.error().message;
  EXPECT_EQ(names(*all), std::vector<std::string>{"dev2"});

  auto twice = s_->add_accounts({make_account("dev4"), make_account("dev4")});
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().kind, error_kind::usage);
  EXPECT_EQ(twice.error().message, "device dev4 given twice");
  EXPECT_EQ(names(*s_->list_accounts()), std::vector<std::string>{"dev2"});
}

TEST_P(AccountStore, AddsTenThousandInOneCallQuickly) {
  std::vector<account> many;
  for (int n = 1; n <= 10000; ++n) many.push_back(make_account("dev" + std::to_string(n)));
  auto start = std::chrono::steady_clock::now();
  add(many);
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, std::chrono::seconds(20));
  auto all = s_->list_accounts();
  ASSERT_TRUE(all) << all.error().message;
  EXPECT_EQ(all->size(), 10000u);
  EXPECT_EQ(all->back().rooms, std::vector<std::string>{"lab-*"});
  // A taken name late in a big list still leaves nothing behind.
  std::vector<account> more;
  for (int n = 10001; n <= 12000; ++n) more.push_back(make_account("dev" + std::to_string(n)));
  more.push_back(make_account("dev5000"));
  auto r = s_->add_accounts(more);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "device dev5000 exists");
  EXPECT_EQ(s_->list_accounts()->size(), 10000u);
}

TEST_P(AccountStore, GrantsAreDeduplicatedAndRevokeIgnoresAbsentOnes) {
  add({make_account("dev1", {"a", "a"})});
  EXPECT_EQ(find("dev1").rooms, std::vector<std::string>{"a"});
  auto g = s_->grant_rooms("dev1", {"b*", "a", "b*", "c"});
  ASSERT_TRUE(g) << g.error().message;
  EXPECT_TRUE(*g);
  EXPECT_EQ(find("dev1").rooms, (std::vector<std::string>{"a", "b*", "c"}));
  // Grants compare byte for byte: a trailing space is another room.
  ASSERT_TRUE(s_->grant_rooms("dev1", {"a "}));
  EXPECT_EQ(find("dev1").rooms, (std::vector<std::string>{"a", "a ", "b*", "c"}));
  EXPECT_TRUE(events().empty());  // granting narrows nothing

  auto r = s_->revoke_rooms("dev1", {"a", "zzz"});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(*r);
  EXPECT_EQ(find("dev1").rooms, (std::vector<std::string>{"a ", "b*", "c"}));
  auto e = events();
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].name, "dev1");
  EXPECT_EQ(e[0].kind, what::revoked);
  // Revoking only absent grants takes nothing away: no event.
  ASSERT_TRUE(s_->revoke_rooms("dev1", {"zzz"}));
  EXPECT_EQ(events().size(), 1u);

  auto missing = s_->grant_rooms("nobody", {"a"});
  ASSERT_TRUE(missing) << missing.error().message;
  EXPECT_FALSE(*missing);
  missing = s_->revoke_rooms("nobody", {"a"});
  ASSERT_TRUE(missing) << missing.error().message;
  EXPECT_FALSE(*missing);
}

TEST_P(AccountStore, DisableEnableRecordOnlyTheDisabling) {
  add({make_account("dev1")});
  auto d = s_->set_account_disabled("dev1", true);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_TRUE(*d);
  EXPECT_TRUE(find("dev1").disabled);
  auto en = s_->set_account_disabled("dev1", false);
  ASSERT_TRUE(en) << en.error().message;
  EXPECT_TRUE(*en);
  EXPECT_FALSE(find("dev1").disabled);
  auto e = events();
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].kind, what::disabled);
  EXPECT_GT(e[0].at, micros_at(0));
  auto missing = s_->set_account_disabled("nobody", true);
  ASSERT_TRUE(missing) << missing.error().message;
  EXPECT_FALSE(*missing);
  EXPECT_EQ(events().size(), 1u);
}

TEST_P(AccountStore, NewCredentialsReplaceEveryHash) {
  add({make_account("dev1")});
  auto r = s_->set_account_credentials("dev1", {creds("SHA-256", 'z')});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(*r);
  account got = find("dev1");
  ASSERT_EQ(got.credentials.size(), 1u);
  EXPECT_EQ(got.credentials[0].hash, "SHA-256");
  EXPECT_EQ(got.credentials[0].stored_key, creds("SHA-256", 'z').stored_key);
  auto e = events();
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].kind, what::password);
  auto missing = s_->set_account_credentials("nobody", {creds("SHA-1", 'q')});
  ASSERT_TRUE(missing) << missing.error().message;
  EXPECT_FALSE(*missing);
}

TEST_P(AccountStore, RemoveTakesEveryRowAndTheNameCanBeAddedAgain) {
  add({make_account("dev1", {"x", "y"}), make_account("dev2")});
  auto r = s_->remove_account("dev1");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(*r);
  auto gone = s_->find_account("dev1");
  ASSERT_TRUE(gone);
  EXPECT_FALSE(*gone);
  EXPECT_EQ(names(*s_->list_accounts()), std::vector<std::string>{"dev2"});
  auto again = s_->remove_account("dev1");
  ASSERT_TRUE(again);
  EXPECT_FALSE(*again);
  // No credentials or grants were left behind to join a new dev1.
  add({make_account("dev1", {"z"})});
  account fresh = find("dev1");
  EXPECT_EQ(fresh.rooms, std::vector<std::string>{"z"});
  EXPECT_EQ(fresh.credentials.size(), 2u);
  auto e = events();
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].kind, what::removed);
  EXPECT_EQ(e[0].name, "dev1");
}

TEST_P(AccountStore, EventsComeInIdOrderAfterAnIdWithALimit) {
  add({make_account("a"), make_account("b")});
  ASSERT_TRUE(s_->set_account_disabled("a", true));
  ASSERT_TRUE(s_->set_account_credentials("b", {creds("SHA-1", 'n')}));
  ASSERT_TRUE(s_->revoke_rooms("a", {"lab-*"}));
  ASSERT_TRUE(s_->remove_account("b"));
  auto all = events();
  ASSERT_EQ(all.size(), 4u);
  std::vector<what> kinds;
  for (const auto& e : all) kinds.push_back(e.kind);
  EXPECT_EQ(kinds,
            (std::vector<what>{what::disabled, what::password, what::revoked, what::removed}));
  for (std::size_t i = 1; i < all.size(); ++i) EXPECT_GT(all[i].id, all[i - 1].id);
  auto last = s_->last_account_event();
  ASSERT_TRUE(last) << last.error().message;
  EXPECT_EQ(*last, all.back().id);

  auto page = s_->account_events_after(all[0].id, 2);
  ASSERT_TRUE(page) << page.error().message;
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].id, all[1].id);
  EXPECT_EQ((*page)[1].id, all[2].id);
  auto none = s_->account_events_after(all.back().id, 10);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST_P(AccountStore, LoginsMoveLastLoginForwardOnlyInsideApply) {
  add({make_account("dev1"), make_account("dev2")});
  write_batch b;
  b.logins = {{"dev1", micros_at(100)}, {"gone", micros_at(100)}};
  auto r = s_->apply(b);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(find("dev1").last_login, micros_at(100));
  EXPECT_FALSE(find("dev2").last_login);
  auto missing = s_->find_account("gone");
  ASSERT_TRUE(missing);
  EXPECT_FALSE(*missing);  // a login never makes an account

  // An older login (a late batch) does not move it back; a newer one does,
  // and within one batch the latest wins whatever the order.
  b.logins = {{"dev1", micros_at(50)}};
  ASSERT_TRUE(s_->apply(b));
  EXPECT_EQ(find("dev1").last_login, micros_at(100));
  b.logins = {{"dev1", micros_at(300)}, {"dev1", micros_at(200)}};
  ASSERT_TRUE(s_->apply(b));
  EXPECT_EQ(find("dev1").last_login, micros_at(300));

  // Logins share the batch's transaction: a refused report takes them back.
  write_batch bad;
  bad.logins = {{"dev2", micros_at(400)}};
  status_report rep = test::make_report("kitchen", "s-1", micros_at(1));
  rep.values[0].value = std::numeric_limits<double>::infinity();
  bad.reports.push_back(rep);
  EXPECT_FALSE(s_->apply(bad));
  EXPECT_FALSE(find("dev2").last_login);
}

TEST_P(AccountStore, TheWriterQueuesLoginsLikeAnyOtherWrite) {
  add({make_account("dev1")});
  std::string url = db_->url();
  store_writer writer([url] { return open_store(url); });
  result<void> outcome = fail(error_kind::internal, "not completed");
  writer.submit_wait(account_login{"dev1", micros_at(70)},
                     [&](const result<void>& r) { outcome = r; });
  writer.submit_wait(test::make_report("kitchen", "s-1", micros_at(70)));
  writer.flush();
  EXPECT_TRUE(outcome) << outcome.error().message;
  EXPECT_EQ(find("dev1").last_login, micros_at(70));
}

TEST_P(AccountStore, MigrationFromV2KeepsDataAndAddsAccounts) {
  auto fresh = std::make_unique<test::scratch_db>(GetParam(), "accounts_v2");
  ASSERT_EQ(fresh->setup_error(), "");
  auto old = open_store(fresh->url());
  ASSERT_TRUE(old) << old.error().message;
  auto v2 = (*old)->migrate_to(2);
  ASSERT_TRUE(v2) << v2.error().message;
  ASSERT_EQ(v2->to_version, 2);
  write_batch b;
  b.reports.push_back(test::make_report("kitchen", "s-1", micros_at(100)));
  b.touches.push_back({"dev@iot.local/r", "kitchen", micros_at(100)});
  ASSERT_TRUE((*old)->apply(b));
  // v2 has no accounts table.
  EXPECT_FALSE((*old)->list_accounts());

  auto up = (*old)->migrate_to(3);  // the step that brings accounts
  ASSERT_TRUE(up) << up.error().message;
  EXPECT_EQ(up->from_version, 2);
  EXPECT_EQ(up->to_version, 3);
  EXPECT_EQ(up->applied, std::vector<std::string>{"v3: device accounts"});
  EXPECT_EQ(*(*old)->count_reports(), 1u);
  auto empty = (*old)->list_accounts();
  ASSERT_TRUE(empty) << empty.error().message;
  EXPECT_TRUE(empty->empty());
  ASSERT_TRUE((*old)->add_accounts({make_account("dev1")}));
  auto found = (*old)->find_account("dev1");
  ASSERT_TRUE(found && *found);
  // The device row too (read once the schema is the latest: devices() reads
  // columns of later versions).
  ASSERT_TRUE((*old)->migrate());
  EXPECT_EQ((*old)->devices(false)->size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Engines, AccountStore, ::testing::Values(engine::sqlite, engine::mysql),
                         [](const auto& info) { return test::engine_name(info.param); });

}  // namespace
}  // namespace iotxmpp
