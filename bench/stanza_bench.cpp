// Hot-path costs: building and writing a reply, forwarding a parsed report,
// parsing a JID.

#include <benchmark/benchmark.h>
#include <pugixml.hpp>

#include "core/xmpp/jid.hpp"
#include "core/xmpp/stanza.hpp"

namespace {

using namespace iotxmpp;

const char* const report =
    "<message to='iot.local' id='s-42'><fields xmlns='urn:xmpp:iot:sensordata' seqnr='42' "
    "done='true'><node nodeId='kitchen'><timestamp value='2026-11-24T08:00:00+01:00'>"
    "<numeric name='temperature' value='21.5' unit='\u00B0C' momentary='true'/>"
    "<numeric name='humidity' value='40.2' unit='%' momentary='true'/>"
    "<numeric name='brightness' value='310' unit='lx' momentary='true'/>"
    "</timestamp></node></fields></message>";

void recommend_reply(benchmark::State& state) {
  std::string out;
  for (auto _ : state) {
    auto reply = iq_result("r1", "iot.local", "49152@127.0.0.1/sensor");
    auto& rec = reply.add_child("recommend");
    rec.set("xmlns", ns::recommend).set("room", "kitchen");
    rec.set("at", "2026-11-24T08:00:03+01:00").set("period", "morning");
    rec.add_child("target")
        .set("name", "temperature")
        .set("value", "21")
        .set("unit", "\u00B0C")
        .set("action", "raise");
    rec.add_child("target")
        .set("name", "humidity")
        .set("value", "45")
        .set("unit", "%")
        .set("action", "hold");
    rec.add_child("target")
        .set("name", "brightness")
        .set("value", "300")
        .set("unit", "lx")
        .set("action", "lower");
    out.clear();
    reply.write(out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * out.size()));
}
BENCHMARK(recommend_reply);

void forward_report(benchmark::State& state) {
  pugi::xml_document doc;
  doc.load_string(report);
  const auto root = doc.document_element();
  std::string out;
  for (auto _ : state) {
    out.clear();
    write_node(root, out, "49152@127.0.0.1/sensor", "tail@iot.local/cli");
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * out.size()));
}
BENCHMARK(forward_report);

void copy_and_write_report(benchmark::State& state) {
  pugi::xml_document doc;
  doc.load_string(report);
  const auto root = doc.document_element();
  for (auto _ : state) benchmark::DoNotOptimize(xml_element::from(root).str());
}
BENCHMARK(copy_and_write_report);

void error_reply_to_iq(benchmark::State& state) {
  pugi::xml_document doc;
  doc.load_string(
      "<iq type='get' id='r1' to='iot.local'><recommend xmlns='urn:iotxmpp:recommend:0'/></iq>");
  const auto root = doc.document_element();
  for (auto _ : state)
    benchmark::DoNotOptimize(
        error_reply(root, stanza_condition::bad_request, "iot.local", "1@127.0.0.1/d").str());
}
BENCHMARK(error_reply_to_iq);

void parse_jid(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(jid::parse("device-17@Example.COM/sensor"));
}
BENCHMARK(parse_jid);

void parse_ipv6_jid(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(jid::parse("49152@[2001:db8::1]/sensor"));
}
BENCHMARK(parse_ipv6_jid);

void stream_id(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(new_stream_id());
}
BENCHMARK(stream_id);

}  // namespace

BENCHMARK_MAIN();
