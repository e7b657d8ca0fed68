// 13: every field the store bounds is checked before a stanza is accepted
// (PROTOCOL.md §4.1). One table: each limit at N is accepted and stored, at
// N+1 it gets bad-request naming the field and the limit, and nothing of it
// is stored. On both engines, over real sockets.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/model/limits.hpp"
#include "support/extra_values.hpp"
#include "support/scratch_db.hpp"
#include "wire/wire_fixture.hpp"

namespace iotxmpp::test {
namespace {

constexpr std::string_view e_acute = "\xC3\xA9";       // 2 bytes, 1 character
constexpr std::string_view euro = "\xE2\x82\xAC";      // 3 bytes, 1 character
constexpr std::string_view grin = "\xF0\x9F\x98\x80";  // 4 bytes (utf8mb4), 1 character

std::string repeat(std::string_view unit, std::size_t n) {
  std::string s;
  s.reserve(unit.size() * n);
  for (std::size_t i = 0; i < n; ++i) s += unit;
  return s;
}

std::string numeric(std::string_view name, std::string_view unit = {}) {
  std::string s = "<numeric name='" + std::string(name) + "' value='1'";
  if (!unit.empty()) s += " unit='" + std::string(unit) + "'";
  return s + "/>";
}

// A status report with stanza `id` for `room` holding `values`.
std::string report_of(std::string_view id, std::string_view room, std::string_view values) {
  return "<message to='iot.local' id='" + std::string(id) +
         "'><fields xmlns='urn:xmpp:iot:sensordata'><node nodeId='" + std::string(room) +
         "'><timestamp value='2026-11-24T08:00:00+01:00'>" + std::string(values) +
         "</timestamp></node></fields></message>";
}

std::string recommend(std::string_view id, std::string_view room) {
  return "<iq type='get' id='" + std::string(id) +
         "' to='iot.local'><recommend xmlns='urn:iotxmpp:recommend:0' room='" + std::string(room) +
         "'/></iq>";
}

// Numeric elements whose stored extra JSON (readings.extra) is exactly
// `bytes` long, mostly in 4-byte characters.
std::string extra_numerics(std::size_t bytes) {
  std::string xml;
  for (const auto& v : test::values_of_extra_size(bytes, repeat(grin, 200)))
    xml += numeric(v.name, v.unit);
  return xml;
}

// Sends a ping and requires its result (not an error): everything this
// session sent before is committed, or was never accepted.
void expect_synced(raw_client& c, const std::string& id) {
  c.send(ping(id));
  std::string got = c.read_until("id='" + id + "'");
  ASSERT_FALSE(got.empty()) << "no answer to ping " << id;
  got += c.read_until(">");
  EXPECT_NE(got.find("type='result'"), std::string::npos) << got;
}

// Reads the error reply `<KIND ... id='ID' type='error'>...</KIND>` and
// requires bad-request with a text holding `text`.
void expect_bad_request(raw_client& c, std::string_view kind, std::string_view id,
                        std::string_view text) {
  std::string got = c.read_until("</" + std::string(kind) + ">");
  for (std::size_t at; (at = got.find("&apos;")) != std::string::npos;) got.replace(at, 6, "'");
  ASSERT_FALSE(got.empty()) << "no reply to " << kind << " " << id.substr(0, 40);
  EXPECT_NE(got.find("id='" + std::string(id) + "'"), std::string::npos) << got.substr(0, 400);
  EXPECT_NE(got.find("type='error'"), std::string::npos) << got.substr(0, 400);
  EXPECT_NE(got.find("<bad-request xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"),
            std::string::npos)
      << got.substr(0, 400);
  EXPECT_NE(got.find("<text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas' xml:lang='en'>"),
            std::string::npos)
      << got.substr(0, 400);
  EXPECT_NE(got.find(text), std::string::npos) << "wanted: " << text << "\n" << got.substr(0, 400);
}

// One row of the table: a field, its limit N, and how to make a report
// whose field is `n` long. The report is for `room(n)` with stanza `id(n)`.
struct report_case {
  std::string field;
  std::size_t limit;
  std::function<std::string(std::size_t n)> room;
  std::function<std::string(std::size_t n)> id;
  std::function<std::string(std::size_t n)> values;
  std::string refusal;  // the <text> at N+1
  std::size_t stored_values = 1;
};

std::vector<report_case> report_cases() {
  const std::string t = numeric("temperature");
  auto fixed = [](std::string s) { return [s](std::size_t) { return s; }; };
  auto tagged = [](std::string tag) {
    return [tag](std::size_t n) { return tag + "-" + std::to_string(n); };
  };
  auto limit = [](std::size_t n) { return std::to_string(n); };
  const std::size_t room = limits::room.max, id = limits::stanza_id.max,
                    name = limits::value_name.max, unit = limits::value_unit.max,
                    values = limits::values_per_report, extra = limits::extra.max;
  auto too_long = [](std::string field, std::size_t n, std::string what) {
    return field + " is " + std::to_string(n + 1) + " " + what + "; the limit is " +
           std::to_string(n);
  };
  return {
      {"nodeId (ASCII)", room, [](std::size_t n) { return std::string(n, 'r'); }, tagged("a"),
       fixed(t), too_long("nodeId", room, "characters")},
      // 4-byte characters: MariaDB's utf8mb4 and SQLite count characters.
      {"nodeId (4-byte characters)", room, [](std::size_t n) { return repeat(grin, n); },
       tagged("b"), fixed(t), too_long("nodeId", room, "characters")},
      // MariaDB would drop a trailing space past the column's end with a
      // warning, even in strict mode; the limit refuses it on both engines.
      {"nodeId (trailing space)", room, [](std::size_t n) { return std::string(n - 1, 's') + " "; },
       tagged("c"), fixed(t), too_long("nodeId", room, "characters")},
      {"id (ASCII)", id, tagged("id-room-a"), [](std::size_t n) { return std::string(n, 'i'); },
       fixed(t), too_long("id", id, "characters")},
      {"id (3-byte characters)", id, tagged("id-room-b"),
       [](std::size_t n) { return repeat(euro, n); }, fixed(t), too_long("id", id, "characters")},
      {"numeric name", name, tagged("name-room"), tagged("name"),
       [](std::size_t n) { return numeric(repeat(e_acute, n)); },
       "is " + std::to_string(name + 1) + " characters; the limit is " + limit(name)},
      {"unit", unit, tagged("unit-room"), tagged("unit"),
       [](std::size_t n) { return numeric("co2", repeat(grin, n)); },
       too_long("unit of numeric 'co2'", unit, "characters")},
      {"number of values", values, tagged("count-room"), tagged("count"),
       [](std::size_t n) {
         std::string v;
         for (std::size_t i = 0; i < n; ++i) v += numeric("v" + std::to_string(i));
         return v;
       },
       "the report has " + std::to_string(values + 1) + " numeric values; the limit is " +
           limit(values),
       values},
      {"extra values", extra, tagged("extra-room"), tagged("extra"),
       [t](std::size_t n) { return t + extra_numerics(n); },
       "are " + std::to_string(extra + 1) + " bytes as stored; the limit is " + limit(extra), 0},
  };
}

class Wire13Limits : public ::testing::TestWithParam<engine> {
 protected:
  void SetUp() override {
    db_ = std::make_unique<scratch_db>(GetParam(), "wirelimits");
    if (!db_->skip_reason().empty()) GTEST_SKIP() << db_->skip_reason();
    ASSERT_EQ(db_->setup_error(), "");
    server_ = std::make_unique<test_server>([&](server_options& o) {
      o.store_url = db_->url();
      // A presence at the 65,535-byte bound is larger than the default 64 KiB.
      o.config.limits.max_stanza_bytes = 256 * 1024;
    });
    store_ = open_test_store(*server_);
  }

  std::size_t reports() { return store_->count_reports().value(); }

  std::unique_ptr<scratch_db> db_;
  std::unique_ptr<test_server> server_;
  std::unique_ptr<store> store_;
};

TEST_P(Wire13Limits, EachReportFieldAtItsLimitIsStoredAndOnePastIsRefused) {
  for (const report_case& c : report_cases()) {
    SCOPED_TRACE(c.field);
    raw_client device("127.0.0.1", server_->port());
    const std::string jid = device.negotiate("limits");
    const std::size_t n = c.limit;

    const std::size_t before = reports();
    device.send(report_of(c.id(n), c.room(n), c.values(n)));
    expect_synced(device, "at-limit");
    if (HasFatalFailure()) return;
    ASSERT_EQ(reports(), before + 1);
    auto stored = store_->latest_report(c.room(n));
    ASSERT_TRUE(stored && *stored) << "not stored";
    EXPECT_EQ((*stored)->room, c.room(n));
    EXPECT_EQ((*stored)->stanza_id, c.id(n));
    EXPECT_EQ((*stored)->device_jid, jid);
    if (c.stored_values) {
      EXPECT_EQ((*stored)->values.size(), c.stored_values);
    }

    device.send(report_of(c.id(n + 1), c.room(n + 1), c.values(n + 1)));
    expect_bad_request(device, "message", c.id(n + 1), c.refusal);
    expect_synced(device, "past-limit");
    if (HasFatalFailure()) return;
    EXPECT_EQ(reports(), before + 1) << "something of the refused report was stored";
    if (c.room(n + 1) != c.room(n)) {
      auto absent = store_->latest_report(c.room(n + 1));
      ASSERT_TRUE(absent);
      EXPECT_FALSE(*absent) << "the refused report's room was stored";
    }
  }
}

TEST_P(Wire13Limits, ANameGivenTwiceIsRefused) {
  raw_client device("127.0.0.1", server_->port());
  device.negotiate("twice");
  device.send(report_of("t1", "twice-room",
                        numeric("temperature") + numeric("humidity") + numeric("temperature")));
  expect_bad_request(device, "message", "t1", "given twice; a report carries each name once");
  expect_synced(device, "twice-sync");
  EXPECT_EQ(reports(), 0u);
}

TEST_P(Wire13Limits, PresenceShowAndStatusAtTheLimitAreStoredOnePastAreRefused) {
  const std::size_t n = limits::presence_text.max;  // bytes: 3-byte characters
  ASSERT_EQ(n % 3, 0u);
  const std::string at_limit = repeat(euro, n / 3), past = at_limit + "x";
  raw_client device("127.0.0.1", server_->port());
  const std::string jid = device.negotiate("presence");
  device.send("<presence id='p0'><show>" + at_limit + "</show><status>" + at_limit +
              "</status></presence>");
  expect_synced(device, "presence-at-limit");
  auto row = [&]() -> std::optional<device_row> {
    const std::vector<device_row> rows = store_->devices(false).value();
    for (const device_row& d : rows)
      if (d.jid == jid) return d;
    return std::nullopt;
  };
  auto stored = row();
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->show, at_limit);
  EXPECT_EQ(stored->status, at_limit);

  for (std::string field : {"show", "status"}) {
    SCOPED_TRACE(field);
    const std::string other = field == "show" ? "status" : "show";
    device.send("<presence id='p-" + field + "'><" + field + ">" + past + "</" + field + "><" +
                other + ">short</" + other + "></presence>");
    expect_bad_request(
        device, "presence", "p-" + field,
        field + " is " + std::to_string(n + 1) + " bytes; the limit is " + std::to_string(n));
    expect_synced(device, "presence-past-" + field);
    auto after = row();
    ASSERT_TRUE(after);
    EXPECT_EQ(after->show, at_limit) << "something of the refused presence was stored";
    EXPECT_EQ(after->status, at_limit) << "something of the refused presence was stored";
  }
}

TEST_P(Wire13Limits, RecommendRoomAtTheLimitIsStoredOnePastIsRefused) {
  const std::size_t n = limits::room.max;
  raw_client device("127.0.0.1", server_->port());
  device.negotiate("asker");
  device.send(recommend("r-at", repeat(grin, n)));
  std::string got = device.read_until("</iq>");
  EXPECT_NE(got.find("type='result'"), std::string::npos) << got.substr(0, 400);
  expect_synced(device, "r-sync");
  EXPECT_EQ(store_->count_recommendations().value(), 1u);

  device.send(recommend("r-past", repeat(grin, n + 1)));
  expect_bad_request(
      device, "iq", "r-past",
      "room is " + std::to_string(n + 1) + " characters; the limit is " + std::to_string(n));
  expect_synced(device, "r-sync2");
  EXPECT_EQ(store_->count_recommendations().value(), 1u);
}

// Opens a stream and logs in anonymously (up to bind).
void anonymous_login(raw_client& device) {
  device.send(raw_client::header());
  ASSERT_NE(device.read_until("</stream:features>").find("ANONYMOUS"), std::string::npos);
  device.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='ANONYMOUS'/>");
  ASSERT_NE(device.read_until("/>").find("<success"), std::string::npos);
}

// After login: bind `past` is refused with bad-request and `refusal`; the
// stream stays in bind, and `at_limit` then binds `prefix` + `at_limit`,
// which reports and is stored as the device's JID.
void expect_bind_limit(store& db, raw_client& device, const std::string& prefix,
                       const std::string& at_limit, const std::string& past,
                       const std::string& refusal) {
  try {
    const std::string jid = device.bind_after_auth(past);
    ADD_FAILURE() << "bound " << jid.substr(0, 80) << "...";
    return;
  } catch (const std::runtime_error& e) {
    const std::string reply = e.what();
    EXPECT_NE(reply.find("id='bind1'"), std::string::npos) << reply.substr(0, 400);
    EXPECT_NE(reply.find("type='error'"), std::string::npos) << reply.substr(0, 400);
    EXPECT_NE(reply.find("<bad-request xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"),
              std::string::npos)
        << reply.substr(0, 400);
    EXPECT_NE(reply.find(refusal), std::string::npos) << "wanted: " << refusal << "\n"
                                                      << reply.substr(0, 400);
  }
  device.send(
      "<iq type='set' id='bind2'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>" +
      at_limit + "</resource></bind></iq>");
  const std::string jid = prefix + at_limit;
  const std::string bound = device.read_until("</iq>");
  ASSERT_NE(bound.find("<jid>" + jid + "</jid>"), std::string::npos) << bound.substr(0, 400);
  const std::string room = "jid-room-" + std::to_string(device.local_port());
  device.send(report("at-jid-limit", room));
  expect_synced(device, "jid-sync");
  auto stored = db.latest_report(room);
  ASSERT_TRUE(stored && *stored);
  EXPECT_EQ((*stored)->device_jid, jid);
  bool listed = false;
  const std::vector<device_row> rows = db.devices(false).value();
  for (const device_row& d : rows) listed = listed || d.jid == jid;
  EXPECT_TRUE(listed) << "no device row for the bound JID";
}

std::string full_jid_refusal() {
  return "the full JID is " + std::to_string(limits::full_jid.max + 1) +
         " characters; the limit is " + std::to_string(limits::full_jid.max);
}

// The full JID is stored (767 characters); the resource is what a device
// chooses, so bind refuses one that would make it longer.
TEST_P(Wire13Limits, AnonymousResourceFillsTheFullJidToTheLimitAndNoFurther) {
  raw_client device("127.0.0.1", server_->port());
  const std::string prefix = std::to_string(device.local_port()) + "@127.0.0.1/";
  const std::size_t n = limits::full_jid.max - prefix.size();
  anonymous_login(device);
  if (HasFatalFailure()) return;
  expect_bind_limit(*store_, device, prefix, std::string(n, 'x'), std::string(n + 1, 'x'),
                    full_jid_refusal());
}

TEST_P(Wire13Limits, AccountResourceFillsTheFullJidToTheLimitAndNoFurther) {
  add_device(*server_, "dev-limits", "pw-limits-1", {"*"});
  raw_client device("127.0.0.1", server_->port());
  const std::string prefix = "dev-limits@iot.local/";
  const std::size_t n = limits::full_jid.max - prefix.size();
  device.send(raw_client::header());
  ASSERT_FALSE(device.read_until("</stream:features>").empty());
  const std::string r = device.authenticate("SCRAM-SHA-256", "dev-limits", "pw-limits-1");
  ASSERT_NE(r.find("<success"), std::string::npos) << r;
  expect_bind_limit(*store_, device, prefix, std::string(n, 'x'), std::string(n + 1, 'x'),
                    full_jid_refusal());
}

// Each JID part is at most 1,023 bytes (RFC 7622): two-byte characters
// reach that bound before the full JID's 767 characters.
TEST_P(Wire13Limits, ResourcepartAtItsByteLimitIsBoundOnePastIsNot) {
  raw_client device("127.0.0.1", server_->port());
  const std::string prefix = std::to_string(device.local_port()) + "@127.0.0.1/";
  anonymous_login(device);
  if (HasFatalFailure()) return;
  expect_bind_limit(*store_, device, prefix, repeat(e_acute, 511) + "x", repeat(e_acute, 512),
                    "resourcepart: longer than 1023 bytes");
}

INSTANTIATE_TEST_SUITE_P(Engines, Wire13Limits, ::testing::Values(engine::sqlite, engine::mysql),
                         [](const auto& info) { return engine_name(info.param); });

}  // namespace
}  // namespace iotxmpp::test
