// The field limits (model/limits.hpp, PROTOCOL.md §4.1): how they count, the
// validators that apply them (status reports, presence, recommend requests,
// rules, bind), and that each bound the database enforces is exactly the
// database's, on both engines.

#include "core/model/limits.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "core/iot/presence.hpp"
#include "core/iot/recommend_payload.hpp"
#include "core/iot/rules.hpp"
#include "core/iot/sensordata.hpp"
#include "core/store/store.hpp"
#include "core/store/store_rows.hpp"
#include "core/xmpp/negotiation.hpp"
#include "support/extra_values.hpp"
#include "support/scratch_db.hpp"

namespace iotxmpp {
namespace {

using namespace std::chrono;
using test::engine;

// The xmpp layer cannot see model/limits.hpp: it is told the bound.
static_assert(stream_policy{}.max_jid_characters == limits::full_jid.max);

const sys_micros received = sys_days{2026y / 11 / 24} + 7h;

constexpr std::string_view euro = "\xE2\x82\xAC";      // 3 bytes, 1 character
constexpr std::string_view grin = "\xF0\x9F\x98\x80";  // 4 bytes (utf8mb4), 1 character
constexpr std::string_view e_acute = "\xC3\xA9";       // 2 bytes, 1 character

std::string repeat(std::string_view unit, std::size_t n) {
  std::string s;
  s.reserve(unit.size() * n);
  for (std::size_t i = 0; i < n; ++i) s += unit;
  return s;
}

// --- counting -------------------------------------------------------------

TEST(Limits, CharactersAreCodePoints) {
  EXPECT_EQ(count_characters(""), 0u);
  EXPECT_EQ(count_characters("kitchen"), 7u);
  EXPECT_EQ(count_characters(e_acute), 1u);
  EXPECT_EQ(count_characters(euro), 1u);
  EXPECT_EQ(count_characters(grin), 1u);
  EXPECT_EQ(count_characters("a" + std::string(grin) + "b" + std::string(euro)), 4u);
  EXPECT_EQ(measure(repeat(grin, 3), limits::room), 3u);
  EXPECT_EQ(measure(repeat(grin, 3), limits::presence_text), 12u);
}

TEST(Limits, OverLimitNamesTheFieldAndTheLimit) {
  EXPECT_EQ(over_limit("nodeId", std::string(255, 'r'), limits::room), std::nullopt);
  EXPECT_EQ(over_limit("nodeId", std::string(300, 'r'), limits::room),
            "nodeId is 300 characters; the limit is 255");
  // 255 four-byte characters (1,020 bytes) are within a character bound...
  EXPECT_EQ(over_limit("nodeId", repeat(grin, 255), limits::room), std::nullopt);
  EXPECT_EQ(over_limit("nodeId", repeat(grin, 256), limits::room),
            "nodeId is 256 characters; the limit is 255");
  // ...and 21,845 three-byte ones (65,535 bytes) just within a byte bound.
  EXPECT_EQ(over_limit("status", repeat(euro, 21845), limits::presence_text), std::nullopt);
  EXPECT_EQ(over_limit("status", repeat(euro, 21845) + "x", limits::presence_text),
            "status is 65536 bytes; the limit is 65535");
  EXPECT_TRUE(within(repeat(e_acute, 255), limits::room));
  EXPECT_FALSE(within(repeat(e_acute, 256), limits::room));
}

// --- the extra values' stored size ----------------------------------------

status_report with_values(std::vector<reading_value> values) {
  status_report r;
  r.device_jid = "1@127.0.0.1/x";
  r.room = "kitchen";
  r.taken_at = {received, 60};
  r.received_at = received;
  r.values = std::move(values);
  return r;
}

TEST(Limits, StoredExtraBytesIsWhatTheStoreWrites) {
  const std::vector<std::vector<reading_value>> cases = {
      {{"temperature", 21.5,
        "\xC2\xB0"
        "C"},
       {"humidity", 40, "%"},
       {"brightness", 310, "lx"}},
      {{"temperature", 21.5, "K"}},
      {{"temperature", 21.5, ""}, {"humidity", 1, "%%"}, {"brightness", 2, "lux"}},
      {{"co2", 600, ""}},
      {{"noise", -3, "dB"}, {"co2", 0.1, "ppm"}},
      {{"temperature", 1, "K"}, {"co2", 1e300, ""}, {"voc", -3e-300, "x"}},
      {{"quote\"back\\slash", 1, "new\nline\ttab\rcr"}, {"ctl\x01\x1f", 2, "\x7f"}},
      {{std::string(grin) + std::string(euro), 5, std::string(e_acute)}},
      // Later values of a standard name go to the JSON (the parser refuses
      // them, but the store still takes them from other writers).
      {{"temperature", 1,
        "\xC2\xB0"
        "C"},
       {"temperature", 2,
        "\xC2\xB0"
        "C"},
       {"humidity", 3, "K"}},
      {{"humidity", 3, "K"}, {"v", 123456789.125, "u"}, {"w", 0, ""}},
  };
  for (const auto& values : cases) {
    const status_report r = with_values(values);
    auto cols = report_to_columns(r);
    ASSERT_TRUE(cols) << cols.error().message;
    EXPECT_EQ(stored_extra_bytes(r), cols->extra.size()) << cols->extra;
  }
}

// --- status reports --------------------------------------------------------

// A report of `values` (numeric elements) for `room`, with stanza `id`.
std::string report_xml(std::string_view room, std::string_view id, std::string_view values) {
  return "<message to='iot.local' id='" + std::string(id) +
         "'><fields xmlns='urn:xmpp:iot:sensordata'><node nodeId='" + std::string(room) +
         "'><timestamp value='2026-11-24T08:00:00+01:00'>" + std::string(values) +
         "</timestamp></node></fields></message>";
}

std::string numeric(std::string_view name, std::string_view value = "1",
                    std::string_view unit = {}) {
  std::string s = "<numeric name='" + std::string(name) + "' value='" + std::string(value) + "'";
  if (!unit.empty()) s += " unit='" + std::string(unit) + "'";
  return s + "/>";
}

result<status_report> parse(const std::string& xml) {
  pugi::xml_document doc;
  auto loaded = doc.load_buffer(xml.data(), xml.size());
  EXPECT_TRUE(loaded) << loaded.description();
  return parse_status_report(doc.document_element(), "1@127.0.0.1/x", received);
}

// Expects `xml` to be refused as bad-request with exactly `why`.
void expect_refused(const std::string& xml, std::string_view why) {
  auto r = parse(xml);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().kind, error_kind::protocol);
  EXPECT_EQ(r.error().condition, "bad-request");
  EXPECT_EQ(r.error().message, why);
}

const std::string t = numeric("temperature", "21.5");

TEST(LimitsReport, RoomAtTheLimitIsAcceptedOnePastIsNot) {
  for (std::string_view unit : {std::string_view("r"), e_acute, grin}) {
    auto ok = parse(report_xml(repeat(unit, 255), "s", t));
    ASSERT_TRUE(ok) << ok.error().message;
    EXPECT_EQ(ok->room, repeat(unit, 255));
    expect_refused(report_xml(repeat(unit, 256), "s", t),
                   "nodeId is 256 characters; the limit is 255");
  }
}

TEST(LimitsReport, StanzaIdAtTheLimitIsAcceptedOnePastIsNot) {
  auto ok = parse(report_xml("kitchen", repeat(euro, 255), t));
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->stanza_id, repeat(euro, 255));
  expect_refused(report_xml("kitchen", std::string(256, 'i'), t),
                 "id is 256 characters; the limit is 255");
}

TEST(LimitsReport, ValueNameAndUnitAtTheLimitAreAcceptedOnePastAreNot) {
  const std::string name = repeat(e_acute, 255);
  auto ok = parse(report_xml("kitchen", "s", numeric(name, "1", std::string(255, 'u'))));
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->values.at(0).name, name);
  EXPECT_EQ(ok->values.at(0).unit, std::string(255, 'u'));
  expect_refused(
      report_xml("kitchen", "s", numeric(std::string(256, 'n'))),
      "numeric name '" + std::string(40, 'n') + "...' is 256 characters; the limit is 255");
  expect_refused(report_xml("kitchen", "s", numeric("co2", "1", std::string(256, 'u'))),
                 "unit of numeric 'co2' is 256 characters; the limit is 255");
}

TEST(LimitsReport, NumberOfValuesAtTheLimitIsAcceptedOnePastIsNot) {
  std::string values;
  for (std::size_t i = 0; i < limits::values_per_report; ++i)
    values += numeric("v" + std::to_string(i));
  auto ok = parse(report_xml("kitchen", "s", values));
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->values.size(), 64u);
  expect_refused(report_xml("kitchen", "s", values + numeric("v64")),
                 "the report has 65 numeric values; the limit is 64");
}

// Numeric elements whose stored extra JSON is exactly `bytes` long.
std::string extra_of_size(std::size_t bytes) {
  auto values = test::values_of_extra_size(bytes, repeat(grin, 200));
  EXPECT_EQ(report_to_columns(with_values(values))->extra.size(), bytes);
  std::string xml;
  for (const auto& v : values) xml += numeric(v.name, "1", v.unit);
  return xml;
}

TEST(LimitsReport, ExtraValuesAtTheLimitAreAcceptedOnePastAreNot) {
  auto ok = parse(report_xml("kitchen", "s", t + extra_of_size(8192)));
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(report_to_columns(*ok)->extra.size(), 8192u);
  expect_refused(report_xml("kitchen", "s", t + extra_of_size(8193)),
                 "the extra values (names other than temperature, humidity and brightness, "
                 "units other than the implied ones) are 8193 bytes as stored; the limit is 8192");
}

TEST(LimitsReport, ANameGivenTwiceIsRefused) {
  expect_refused(report_xml("kitchen", "s", t + numeric("humidity") + numeric("temperature", "3")),
                 "numeric 'temperature' given twice; a report carries each name once");
  expect_refused(report_xml("kitchen", "s", numeric("co2") + numeric("co2")),
                 "numeric 'co2' given twice; a report carries each name once");
  // Names compare exactly: case and all.
  auto ok = parse(report_xml("kitchen", "s", t + numeric("Temperature") + numeric("temperature ")));
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->values.size(), 3u);
}

// --- presence, recommend, rules, bind ----------------------------------------

result<presence_update> parse_presence(const std::string& xml) {
  pugi::xml_document doc;
  EXPECT_TRUE(doc.load_buffer(xml.data(), xml.size()));
  return parse_presence_update(doc.document_element(), "1@127.0.0.1/x", received);
}

TEST(LimitsPresence, ShowAndStatusAtTheLimitAreAcceptedOnePastAreNot) {
  const std::string at_limit = repeat(euro, 21845);  // 65,535 bytes
  auto ok = parse_presence("<presence><show>" + at_limit + "</show><status>" + at_limit +
                           "</status></presence>");
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_TRUE(ok->online);
  EXPECT_EQ(ok->show, at_limit);
  EXPECT_EQ(ok->status, at_limit);
  for (std::string field : {"show", "status"}) {
    auto bad = parse_presence("<presence type='unavailable'><" + field + ">" + at_limit + "x</" +
                              field + "></presence>");
    ASSERT_FALSE(bad.has_value());
    EXPECT_EQ(bad.error().condition, "bad-request");
    EXPECT_EQ(bad.error().message, field + " is 65536 bytes; the limit is 65535");
  }
  auto off = parse_presence("<presence type='unavailable'/>");
  ASSERT_TRUE(off);
  EXPECT_FALSE(off->online);
  EXPECT_EQ(off->show, "");
}

TEST(LimitsRecommend, RoomAtTheLimitIsAcceptedOnePastIsNot) {
  auto room_of = [](const std::string& room) {
    pugi::xml_document doc;
    std::string xml = "<recommend xmlns='urn:iotxmpp:recommend:0'";
    if (!room.empty()) xml += " room='" + room + "'";
    xml += "/>";
    EXPECT_TRUE(doc.load_buffer(xml.data(), xml.size()));
    auto r = requested_room(doc.document_element());
    return r ? std::string(*r) : r.error().condition + ": " + r.error().message;
  };
  EXPECT_EQ(room_of(repeat(grin, 255)), repeat(grin, 255));
  EXPECT_EQ(room_of(repeat(grin, 256)), "bad-request: room is 256 characters; the limit is 255");
  EXPECT_EQ(room_of(""), "bad-request: recommend needs a room");
}

TEST(LimitsRules, PeriodNameAtTheLimitIsAcceptedOnePastIsNot) {
  auto load = [](const std::string& name) {
    return rules::from_json_text(
        R"({"periods": [{"name": ")" + name +
            R"(", "start": "00:00", "targets": {"temperature": {"value": 20, "tolerance": 1}}}]})",
        "r.json");
  };
  auto ok = load(repeat(euro, 64));
  ASSERT_TRUE(ok) << ok.error().message;
  auto bad = load(repeat(euro, 65));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, error_kind::usage);
  EXPECT_EQ(bad.error().message,
            "r.json: periods[0].name: a period name is 65 characters; the limit is 64");
}

stream_header client_header() {
  stream_header h;
  h.name = "stream:stream";
  h.attributes = {{"xmlns", "jabber:client"},
                  {"xmlns:stream", "http://etherx.jabber.org/streams"},
                  {"to", "iot.local"},
                  {"version", "1.0"}};
  return h;
}

// Binds `resource` on a fresh anonymous negotiation from 127.0.0.1:4242.
negotiation::step bind_anonymous(const stream_policy& policy, const std::string& resource) {
  negotiation n(policy, "127.0.0.1", 4242);
  n.on_header(client_header());
  pugi::xml_document auth;
  EXPECT_TRUE(
      auth.load_string("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' "
                       "mechanism='ANONYMOUS'/>"));
  n.on_element(auth.document_element());
  n.on_header(client_header());
  pugi::xml_document bind;
  const std::string xml =
      "<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
      "<resource>" +
      resource + "</resource></bind></iq>";
  EXPECT_TRUE(bind.load_buffer(xml.data(), xml.size()));
  return n.on_element(bind.document_element());
}

TEST(LimitsBind, FullJidAtTheLimitIsBoundOnePastIsNot) {
  const stream_policy policy;
  // "4242@127.0.0.1/" is 15 characters: the resource may take 752.
  auto ok = bind_anonymous(policy, std::string(752, 'x'));
  EXPECT_TRUE(ok.bound) << ok.send;
  auto bad = bind_anonymous(policy, std::string(753, 'x'));
  EXPECT_FALSE(bad.bound);
  EXPECT_NE(bad.send.find("type='error'"), std::string::npos) << bad.send;
  EXPECT_NE(bad.send.find("<bad-request"), std::string::npos) << bad.send;
  EXPECT_NE(bad.send.find("the full JID is 768 characters; the limit is 767"), std::string::npos)
      << bad.send;
  // RFC 7622's bound on each part counts bytes, and comes first: 511
  // two-byte characters and one ASCII are 1,023 bytes, 512 characters.
  auto part_ok = bind_anonymous(policy, repeat(e_acute, 511) + "x");
  EXPECT_TRUE(part_ok.bound) << part_ok.send;
  auto part = bind_anonymous(policy, repeat(e_acute, 512));
  EXPECT_FALSE(part.bound);
  EXPECT_NE(part.send.find("resourcepart: longer than 1023 bytes"), std::string::npos) << part.send;
}

// --- the database's own bounds are ours ------------------------------------

// Each bound the schema enforces, probed with one record per batch: at the
// bound the database takes it, one past it the database refuses it. So the
// constants are the schema's, and the database is a real second line.
class LimitsDatabase : public ::testing::TestWithParam<engine> {
 protected:
  void SetUp() override {
    db_ = std::make_unique<test::scratch_db>(GetParam(), "limits");
    if (!db_->skip_reason().empty()) GTEST_SKIP() << db_->skip_reason();
    ASSERT_EQ(db_->setup_error(), "");
    auto s = open_store(db_->url());
    ASSERT_TRUE(s) << s.error().message;
    store_ = std::move(*s);
    ASSERT_TRUE(store_->migrate());
  }

  status_report report(std::string room, std::string id, std::string jid = "1@127.0.0.1/x") {
    status_report r = with_values({{"temperature", 20,
                                    "\xC2\xB0"
                                    "C"}});
    r.room = std::move(room);
    r.stanza_id = std::move(id);
    r.device_jid = std::move(jid);
    return r;
  }

  result<void> apply_report(status_report r) {
    write_batch b;
    b.reports.push_back(std::move(r));
    return store_->apply(b);
  }

  std::unique_ptr<test::scratch_db> db_;
  std::unique_ptr<store> store_;
};

TEST_P(LimitsDatabase, CharacterBoundsAreTheSchemas) {
  const std::size_t room = limits::room.max, id = limits::stanza_id.max, jid = limits::full_jid.max;
  // Four-byte characters: the bound counts characters, not bytes.
  EXPECT_TRUE(apply_report(report(repeat(grin, room), "a")));
  EXPECT_FALSE(apply_report(report(repeat(grin, room + 1), "b")));
  EXPECT_TRUE(apply_report(report("kitchen", repeat(grin, id))));
  EXPECT_FALSE(apply_report(report("kitchen", repeat(grin, id + 1))));
  EXPECT_TRUE(apply_report(report("hall", "c", "1@127.0.0.1/" + repeat(grin, jid - 12))));
  EXPECT_FALSE(apply_report(report("hall", "d", "1@127.0.0.1/" + repeat(grin, jid - 11))));
  EXPECT_EQ(store_->count_reports().value(), 3u);
  auto latest = store_->latest_report(repeat(grin, room));
  ASSERT_TRUE(latest && *latest);
  EXPECT_EQ((*latest)->room, repeat(grin, room));

  recommendation rec;
  rec.room = repeat(grin, room);
  rec.asked_by = "1@127.0.0.1/" + repeat(grin, jid - 12);
  rec.at = {received, 0};
  rec.period = repeat(grin, limits::period.max);
  write_batch ok;
  ok.recommendations.push_back(rec);
  EXPECT_TRUE(store_->apply(ok));
  rec.period += "x";
  write_batch bad;
  bad.recommendations.push_back(rec);
  EXPECT_FALSE(store_->apply(bad));
  EXPECT_EQ(store_->count_recommendations().value(), 1u);
}

// Why the limit counts a trailing space: MariaDB drops spaces past a
// VARCHAR's end with a warning, even in strict mode, where SQLite refuses.
TEST_P(LimitsDatabase, ATrailingSpacePastTheBoundIsDroppedByMariaDbRefusedBySqlite) {
  const std::string room = std::string(limits::room.max, 'r');
  auto applied = apply_report(report(room + " ", "sp"));
  EXPECT_EQ(applied.has_value(), GetParam() == engine::mysql);
  if (GetParam() == engine::mysql) {
    auto stored = store_->latest_report(room);
    ASSERT_TRUE(stored && *stored);
    EXPECT_EQ((*stored)->room, room);  // the device's room lost its last character
  }
  EXPECT_FALSE(within(room + " ", limits::room));
}

TEST_P(LimitsDatabase, PresenceTextBoundIsMySqlsTextOnBoth) {
  presence_update p;
  p.device_jid = "1@127.0.0.1/x";
  p.show = repeat(euro, 21845);  // 65,535 bytes
  p.status = p.show;
  p.at = received;
  write_batch ok;
  ok.presences.push_back(p);
  ASSERT_TRUE(store_->apply(ok));
  auto rows = store_->devices(false);
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ(rows->at(0).status, p.status);
  p.status += "x";
  write_batch over;
  over.presences.push_back(p);
  // MySQL's TEXT refuses the 65,536th byte; SQLite has no bound of its own,
  // so there the parser's limit is the only line (and keeps both alike).
  EXPECT_EQ(store_->apply(over).has_value(), GetParam() == engine::sqlite);
}

// The extra bound (ours) is chosen so that the store's largest INSERT of
// readings (1000 rows) holds rows with every field at its bound in 4-byte
// characters under MariaDB's default max_allowed_packet (16 MiB).
TEST_P(LimitsDatabase, AFullStatementOfMaximalReportsIsStored) {
  std::vector<reading_value> values =
      test::values_of_extra_size(limits::extra.max, repeat(grin, limits::value_unit.max));
  values.insert(values.begin(), {"temperature", 20,
                                 "\xC2\xB0"
                                 "C"});
  ASSERT_EQ(stored_extra_bytes(with_values(values)), limits::extra.max);
  write_batch b;
  for (int i = 0; i < 1000; ++i) {
    status_report r = report(repeat(grin, limits::room.max - 4) + std::to_string(1000 + i),
                             repeat(grin, limits::stanza_id.max),
                             "1@127.0.0.1/" + repeat(grin, limits::full_jid.max - 12));
    r.values = values;
    b.reports.push_back(std::move(r));
  }
  auto applied = store_->apply(b);
  ASSERT_TRUE(applied) << applied.error().message;
  EXPECT_EQ(store_->count_reports().value(), 1000u);
}

INSTANTIATE_TEST_SUITE_P(Engines, LimitsDatabase, ::testing::Values(engine::sqlite, engine::mysql),
                         [](const auto& info) { return test::engine_name(info.param); });

}  // namespace
}  // namespace iotxmpp
