// Costs on the report path: parsing a status report (with and without the
// pugixml parse of the stanza), writing one, and answering a recommendation.

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstring>

#include "core/datetime.hpp"
#include "core/rules.hpp"
#include "core/sensordata.hpp"

namespace {

using namespace iotxmpp;

constexpr const char* example = R"(<message to='iot.local' id='s-42'>
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

const sys_micros now = std::chrono::sys_days{std::chrono::year{2026} / 11 / 24};

void parse_stanza_and_report(benchmark::State& state) {
  for (auto _ : state) {
    pugi::xml_document doc;
    doc.load_buffer(example, std::strlen(example));
    auto r = parse_status_report(doc.document_element(), "1@127.0.0.1/d", now);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(parse_stanza_and_report);

void parse_report_only(benchmark::State& state) {
  pugi::xml_document doc;
  doc.load_string(example);
  for (auto _ : state) {
    auto r = parse_status_report(doc.document_element(), "1@127.0.0.1/d", now);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(parse_report_only);

void write_report(benchmark::State& state) {
  pugi::xml_document doc;
  doc.load_string(example);
  auto report = *parse_status_report(doc.document_element(), "1@127.0.0.1/d", now);
  std::string out;
  for (auto _ : state) {
    out.clear();
    write_status_fields(report, 42, out);
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(write_report);

void recommend_and_write(benchmark::State& state) {
  pugi::xml_document doc;
  doc.load_string(example);
  auto report = *parse_status_report(doc.document_element(), "1@127.0.0.1/d", now);
  auto rules = rules::defaults();
  std::string out;
  for (auto _ : state) {
    out.clear();
    auto rec = rules.recommend("kitchen", "1@127.0.0.1/d", &report, now, 0);
    write_recommend_payload(rec, out);
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(recommend_and_write);

void datetime_round_trip(benchmark::State& state) {
  for (auto _ : state) {
    auto t = parse_datetime("2026-11-24T08:00:00.25+01:00");
    auto text = format_datetime(*t);
    benchmark::DoNotOptimize(text.data());
  }
}
BENCHMARK(datetime_round_trip);

}  // namespace

BENCHMARK_MAIN();
