// Costs on the report path: parsing a status report (with and without the
// pugixml parse of the stanza), writing one, and answering a recommendation.

#include <benchmark/benchmark.h>

#include <chrono>

#include "core/iot/rules.hpp"
#include "core/iot/sensordata.hpp"
#include "core/model/datetime.hpp"

namespace {

using namespace iotxmpp;

const sys_micros now = std::chrono::sys_days{std::chrono::year{2026} / 11 / 24};
constexpr std::string_view device = "1@127.0.0.1/d";

status_report kitchen_report() {
  status_report r;
  r.room = "kitchen";
  r.stanza_id = "s-42";
  r.taken_at = {now + std::chrono::hours{7}, 60};
  r.values = {{"temperature", 21.5, "°C"}, {"humidity", 40.2, "%"}, {"brightness", 310, "lx"}};
  return r;
}

// The PROTOCOL.md §3.1 status report as a device sends it.
std::string kitchen_message() {
  std::string xml = "<message to='iot.local' id='s-42'>";
  write_status_fields(kitchen_report(), 42, xml);
  return xml + "</message>";
}

// range(0) == 1: the stanza text is parsed by pugixml in every iteration too.
void parse_report(benchmark::State& state) {
  const std::string xml = kitchen_message();
  pugi::xml_document doc;
  doc.load_string(xml.c_str());
  for (auto _ : state) {
    if (state.range(0) == 1) doc.load_buffer(xml.data(), xml.size());
    auto r = parse_status_report(doc.document_element(), device, now);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(parse_report)->Arg(0)->Arg(1);

void write_report(benchmark::State& state) {
  const auto report = kitchen_report();
  std::string out;
  for (auto _ : state) {
    out.clear();
    write_status_fields(report, 42, out);
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(write_report);

void recommend_and_write(benchmark::State& state) {
  const auto report = kitchen_report();
  const auto rules = rules::defaults();
  std::string out;
  for (auto _ : state) {
    out.clear();
    auto rec = rules.recommend("kitchen", device, &report, now, 0);
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
