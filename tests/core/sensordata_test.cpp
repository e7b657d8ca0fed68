// Status reports: the XEP-0323 sensor-data payload of PROTOCOL.md §3.1.

#include "core/iot/sensordata.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>

#include "core/model/datetime.hpp"

namespace iotxmpp {
namespace {

using namespace std::chrono;

const sys_micros received = sys_days{2026y / 11 / 24} + 7h + 3s;
constexpr std::string_view jid = "12345@127.0.0.1/dev";

// The XML parsed into a document owned by the returned pointer.
std::unique_ptr<pugi::xml_document> load(std::string_view xml) {
  auto doc = std::make_unique<pugi::xml_document>();
  auto r = doc->load_buffer(xml.data(), xml.size());
  EXPECT_TRUE(r) << r.description() << " in " << xml;
  return doc;
}

result<status_report> parse(std::string_view xml) {
  auto doc = load(xml);
  return parse_status_report(doc->document_element(), jid, received);
}

// A message whose <timestamp> holds `inside`, stamped `stamp`, room `node`.
std::string report_xml(std::string_view inside, std::string_view node = "<node nodeId='kitchen'>",
                       std::string_view stamp = "2026-11-24T08:00:00+01:00") {
  return "<message to='iot.local' id='s-1'><fields xmlns='urn:xmpp:iot:sensordata'>" +
         std::string(node) + "<timestamp value='" + std::string(stamp) + "'>" +
         std::string(inside) + "</timestamp></node></fields></message>";
}

TEST(SensorData, ProtocolExampleParsesExactly) {
  const char* xml = R"(<message to='iot.local' id='s-42'>
  <fields xmlns='urn:xmpp:iot:sensordata' seqnr='42' done='true'>
    <node nodeId='kitchen'>
      <timestamp value='2026-11-24T08:00:00+01:00'>
        <numeric name='temperature' value='21.5' unit='°C' momentary='true'/>
        <numeric name='humidity' value='40.2' unit='%' momentary='true'/>
        <numeric name='brightness' value='310' unit='lx' momentary='true'/>
      </timestamp>
    </node>
  </fields>
</message>)";
  auto doc = load(xml);
  EXPECT_TRUE(is_status_report(doc->document_element()));
  auto r = parse_status_report(doc->document_element(), jid, received);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->device_jid, jid);
  EXPECT_EQ(r->room, "kitchen");
  EXPECT_EQ(r->stanza_id, "s-42");
  EXPECT_EQ(r->taken_at.utc, sys_days{2026y / 11 / 24} + 7h);
  EXPECT_EQ(r->taken_at.offset_minutes, 60);
  EXPECT_EQ(r->received_at, received);
  ASSERT_EQ(r->values.size(), 3u);
  EXPECT_EQ(r->values[0].name, "temperature");
  EXPECT_EQ(r->values[0].value, 21.5);
  EXPECT_EQ(r->values[0].unit, "°C");
  EXPECT_EQ(r->values[1].name, "humidity");
  EXPECT_EQ(r->values[1].value, 40.2);
  EXPECT_EQ(r->values[1].unit, "%");
  EXPECT_EQ(r->values[2].name, "brightness");
  EXPECT_EQ(r->values[2].value, 310);
  EXPECT_EQ(r->values[2].unit, "lx");
}

TEST(SensorData, ExtraNamesAndMissingUnits) {
  auto r = parse(
      report_xml("<numeric name='temperature' value='19'/><numeric name='co2' value='600'/>"
                 "<numeric name='humidity' value='+5e1'/><numeric name='brightness' value=' .5 '/>"
                 "<numeric name='noise' value='-3' unit='dB'/>"));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  ASSERT_EQ(r->values.size(), 5u);
  EXPECT_EQ(r->values[0].unit, "°C");
  EXPECT_EQ(r->values[1].name, "co2");
  EXPECT_EQ(r->values[1].value, 600);
  EXPECT_EQ(r->values[1].unit, "");
  EXPECT_EQ(r->values[2].value, 50);
  EXPECT_EQ(r->values[2].unit, "%");
  EXPECT_EQ(r->values[3].value, 0.5);
  EXPECT_EQ(r->values[3].unit, "lx");
  EXPECT_EQ(r->values[4].unit, "dB");
  EXPECT_EQ(r->values[4].value, -3);
  EXPECT_EQ(r->value_of("humidity"), 50);
  // A name given twice is refused (limits_test.cpp has the rule's cases).
  EXPECT_FALSE(
      parse(report_xml("<numeric name='humidity' value='50'/>"
                       "<numeric name='humidity' value='41'/>")));
}

TEST(SensorData, NoIdGivesEmptyStanzaId) {
  auto r = parse(
      "<message><fields xmlns='urn:xmpp:iot:sensordata'><node nodeId='hall'>"
      "<timestamp value='2026-11-24T08:00:00Z'><numeric name='t' value='1'/>"
      "</timestamp></node></fields></message>");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->stanza_id, "");
  EXPECT_EQ(r->room, "hall");
}

TEST(SensorData, PrefixedNamespaceAndForeignElements) {
  auto r = parse(
      "<message id='p'><sd:fields xmlns:sd='urn:xmpp:iot:sensordata'><sd:node nodeId='attic'>"
      "<sd:timestamp value='2026-11-24T08:00:00Z'><sd:numeric name='temperature' value='7'/>"
      "<sd:boolean name='door' value='true'/><numeric name='ignored' value='1'/>"
      "<x:numeric xmlns:x='urn:other' name='ignored' value='2'/>"
      "</sd:timestamp></sd:node></sd:fields></message>");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->room, "attic");
  ASSERT_EQ(r->values.size(), 1u);
  EXPECT_EQ(r->values[0].value, 7);
}

TEST(SensorData, RecognisesReportsOnly) {
  EXPECT_FALSE(is_status_report(load("<message><body>hi</body></message>")->document_element()));
  EXPECT_FALSE(is_status_report(load("<message><fields/></message>")->document_element()));
  EXPECT_FALSE(
      is_status_report(load("<message><fields xmlns='urn:other'/></message>")->document_element()));
  EXPECT_TRUE(is_status_report(
      load("<message><fields xmlns='urn:xmpp:iot:sensordata'/></message>")->document_element()));
}

struct malformed_case {
  std::string xml;
  std::string reason;
};

TEST(SensorData, MalformedReportsAreRejectedWithReason) {
  const std::string t = "<numeric name='temperature' value='21'/>";
  const malformed_case cases[] = {
      {"<message id='a'><body>x</body></message>", "no urn:xmpp:iot:sensordata fields payload"},
      {"<message><fields xmlns='urn:xmpp:iot:sensordata'/>"
       "<fields xmlns='urn:xmpp:iot:sensordata'/></message>",
       "more than one fields payload: a report carries one"},
      {"<message><fields xmlns='urn:xmpp:iot:sensordata'/></message>",
       "no node (the room) in fields"},
      {"<message><fields xmlns='urn:xmpp:iot:sensordata'><node nodeId='a'/><node nodeId='b'/>"
       "</fields></message>",
       "more than one node: a report carries one room"},
      {report_xml(t, "<node>"), "node without nodeId (the room)"},
      {report_xml(t, "<node nodeId=''>"), "empty nodeId (the room)"},
      {"<message><fields xmlns='urn:xmpp:iot:sensordata'><node nodeId='a'/></fields></message>",
       "no timestamp in node"},
      {"<message><fields xmlns='urn:xmpp:iot:sensordata'><node nodeId='a'>"
       "<timestamp value='2026-11-24T08:00:00Z'>" +
           t +
           "</timestamp>"
           "<timestamp value='2026-11-24T08:01:00Z'>" +
           t + "</timestamp></node></fields></message>",
       "more than one timestamp: a report carries one"},
      {"<message><fields xmlns='urn:xmpp:iot:sensordata'><node nodeId='a'><timestamp>" + t +
           "</timestamp></node></fields></message>",
       "timestamp without value"},
      {report_xml(t, "<node nodeId='a'>", "2026-11-24T08:00:00"),
       "timestamp '2026-11-24T08:00:00': missing time zone (Z or +hh:mm or -hh:mm)"},
      {report_xml(t, "<node nodeId='a'>", "2023-02-29T08:00:00Z"),
       "timestamp '2023-02-29T08:00:00Z': day 29 does not exist in 2023-02"},
      {report_xml(t, "<node nodeId='a'>", "yesterday"),
       "timestamp 'yesterday': expected CCYY-MM-DDThh:mm:ss[.sss]TZD"},
      {report_xml(""), "no numeric value in timestamp"},
      {report_xml("<boolean name='door' value='true'/>"), "no numeric value in timestamp"},
      {report_xml("<numeric value='1'/>"), "numeric without a name"},
      {report_xml("<numeric name='' value='1'/>"), "numeric without a name"},
      {report_xml("<numeric name='humidity'/>"), "numeric 'humidity' has no value"},
      {report_xml(t + "<numeric name='humidity' value='abc'/>"),
       "numeric 'humidity': value 'abc' is not a finite number"},
      {report_xml("<numeric name='t' value=''/>"), "numeric 't': value '' is not a finite number"},
      {report_xml("<numeric name='t' value='NaN'/>"),
       "numeric 't': value 'NaN' is not a finite number"},
      {report_xml("<numeric name='t' value='nan'/>"),
       "numeric 't': value 'nan' is not a finite number"},
      {report_xml("<numeric name='t' value='INF'/>"),
       "numeric 't': value 'INF' is not a finite number"},
      {report_xml("<numeric name='t' value='-inf'/>"),
       "numeric 't': value '-inf' is not a finite number"},
      {report_xml("<numeric name='t' value='infinity'/>"),
       "numeric 't': value 'infinity' is not a finite number"},
      {report_xml("<numeric name='t' value='0x1A'/>"),
       "numeric 't': value '0x1A' is not a finite number"},
      {report_xml("<numeric name='t' value='21.5C'/>"),
       "numeric 't': value '21.5C' is not a finite number"},
      {report_xml("<numeric name='t' value='21,5'/>"),
       "numeric 't': value '21,5' is not a finite number"},
      {report_xml("<numeric name='t' value='1e999'/>"),
       "numeric 't': value '1e999' is not a finite number"},
      {report_xml("<numeric name='t' value='+-1'/>"),
       "numeric 't': value '+-1' is not a finite number"},
      {report_xml("<numeric name='t' value='++1'/>"),
       "numeric 't': value '++1' is not a finite number"},
      {report_xml("<numeric name='t' value='1 2'/>"),
       "numeric 't': value '1 2' is not a finite number"},
      {report_xml("<numeric name='t' value='" + std::string(100, '9') + "x'/>"),
       "numeric 't': value '" + std::string(40, '9') + "...' is not a finite number"},
  };
  for (const auto& c : cases) {
    auto r = parse(c.xml);
    ASSERT_FALSE(r.has_value()) << "accepted: " << c.xml;
    EXPECT_EQ(r.error().kind, error_kind::protocol) << c.xml;
    EXPECT_EQ(r.error().condition, "bad-request") << c.xml;
    EXPECT_EQ(r.error().message, c.reason) << c.xml;
  }
}

TEST(SensorData, WrittenFieldsParseBackToTheSameReport) {
  status_report original;
  original.device_jid = std::string(jid);
  original.room = "Tom & Jerry's <den> \"2\"";
  original.stanza_id = "b1-7";
  original.taken_at = {sys_days{2026y / 11 / 24} + 23h + 59min + 1s + 250ms, -330};
  original.received_at = received;
  original.values = {{"temperature", 21.5, "°C"},
                     {"humidity", 0.1 + 0.2, "%"},
                     {"brightness", 310, "lx"},
                     {"weird & 'name'", -1e-7, ""},
                     {"pressure", 1013.25, "h<Pa>"}};
  std::string fields;
  write_status_fields(original, 7, fields);
  std::string xml = "<message id='b1-7'>" + fields + "</message>";
  auto doc = load(xml);
  auto f = doc->document_element().first_child();
  EXPECT_STREQ(f.attribute("seqnr").value(), "7");
  EXPECT_STREQ(f.attribute("done").value(), "true");
  auto back = parse_status_report(doc->document_element(), jid, received);
  ASSERT_TRUE(back.has_value()) << back.error().message << " in " << xml;
  EXPECT_EQ(back->room, original.room);
  EXPECT_EQ(back->stanza_id, original.stanza_id);
  EXPECT_EQ(back->taken_at.utc, original.taken_at.utc);
  EXPECT_EQ(back->taken_at.offset_minutes, original.taken_at.offset_minutes);
  ASSERT_EQ(back->values.size(), original.values.size());
  for (std::size_t i = 0; i < original.values.size(); ++i) {
    EXPECT_EQ(back->values[i].name, original.values[i].name);
    EXPECT_EQ(back->values[i].value, original.values[i].value);  // exact: shortest round trip
    EXPECT_EQ(back->values[i].unit, original.values[i].unit);
  }
}

TEST(SensorData, WritesCompactPayload) {
  status_report r;
  r.room = "kitchen";
  r.taken_at = {sys_days{2026y / 11 / 24} + 7h, 60};
  r.values = {{"temperature", 21.5, "°C"}, {"co2", 600, ""}};
  std::string out = "prefix:";
  write_status_fields(r, 42, out);
  EXPECT_EQ(out,
            "prefix:<fields xmlns='urn:xmpp:iot:sensordata' seqnr='42' done='true'>"
            "<node nodeId='kitchen'><timestamp value='2026-11-24T08:00:00+01:00'>"
            "<numeric name='temperature' value='21.5' unit='°C' momentary='true'/>"
            "<numeric name='co2' value='600' momentary='true'/>"
            "</timestamp></node></fields>");
}

TEST(SensorData, DefaultUnits) {
  EXPECT_EQ(default_unit("temperature"), "°C");
  EXPECT_EQ(default_unit("humidity"), "%");
  EXPECT_EQ(default_unit("brightness"), "lx");
  EXPECT_EQ(default_unit("co2"), "");
}

}  // namespace
}  // namespace iotxmpp
