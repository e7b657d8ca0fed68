// stream_framer throughput on XEP-0323 status reports (PROTOCOL.md §3.1) fed
// as a session would get them from TCP reads.
//
//   build/bench/stream_framer_bench                      MB/s and stanzas/s per read size
//   build/bench/stream_framer_bench --rss-mib=1024       1 GiB through one framer, then its
//                                                        max RSS (getrusage) and throughput

#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/xml/stream_framer.hpp"

namespace {

using iotxmpp::stream_framer;

constexpr std::string_view header =
    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
    "xmlns:stream='http://etherx.jabber.org/streams' to='iot.local' version='1.0'>";

// The report exactly as PROTOCOL.md shows it; sent without the indentation.
constexpr std::string_view protocol_report = R"(<message to='iot.local' id='s-42'>
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

std::string compact_report() {
  std::string out;
  bool after_tag = false;
  for (char c : protocol_report) {
    if (after_tag && (c == ' ' || c == '\n')) continue;
    after_tag = c == '>';
    out.push_back(c);
  }
  return out;
}

// `count` reports, one after the other as a busy device would send them.
std::string reports(std::size_t count) {
  const std::string one = compact_report();
  std::string all;
  all.reserve(count * one.size());
  for (std::size_t i = 0; i < count; ++i) all += one;
  return all;
}

// Feeds `data` in reads of `read_size` bytes; returns the stanzas framed.
std::size_t frame(stream_framer& framer, std::string_view data, std::size_t read_size) {
  std::size_t stanzas = 0;
  for (std::size_t at = 0; at < data.size(); at += read_size) {
    std::string_view read = data.substr(at, read_size);
    while (!read.empty()) {
      const auto o = framer.feed(read);
      if (o.what == stream_framer::status::error) {
        std::fprintf(stderr, "framer error: %.*s\n", int(framer.error_text().size()),
                     framer.error_text().data());
        std::abort();
      }
      if (o.what == stream_framer::status::element) ++stanzas;
      read.remove_prefix(o.consumed);
    }
  }
  return stanzas;
}

void BM_status_reports(benchmark::State& state) {
  const std::size_t read_size = static_cast<std::size_t>(state.range(0));
  const std::string data = reports(2500);  // ~1 MB
  std::size_t stanzas = 0;
  for (auto _ : state) {
    stream_framer framer;
    framer.feed(header);
    stanzas += frame(framer, data, read_size);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * data.size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(stanzas));
  state.counters["stanzas"] = benchmark::Counter(double(stanzas), benchmark::Counter::kIsRate);
  state.counters["stanza_bytes"] = double(compact_report().size());
}
BENCHMARK(BM_status_reports)->Arg(4096)->Arg(1460)->Arg(64)->Unit(benchmark::kMillisecond);

long max_rss_kib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

// Pushes `mib` MiB of reports through one framer; every 64th stanza is a
// 64 KiB one (the largest allowed) so the worst-case buffer is in play.
int run_rss(std::size_t mib) {
  std::string block = reports(160);
  const std::string big = "<message><body>" + std::string(65536 - 32, 'x') + "</body></message>";
  block += big;
  const long before = max_rss_kib();
  stream_framer framer;
  framer.feed(header);
  std::size_t bytes = 0, stanzas = 0;
  const auto start = std::chrono::steady_clock::now();
  while (bytes < mib << 20) {
    stanzas += frame(framer, block, 4096);
    bytes += block.size();
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "framed %zu bytes, %zu stanzas in %.2f s: %.0f MB/s, %.0f stanzas/s\n"
      "max RSS: %ld KiB before framing, %ld KiB after (buffered capacity now %zu B)\n",
      bytes, stanzas, seconds, double(bytes) / seconds / 1e6, double(stanzas) / seconds, before,
      max_rss_kib(), framer.buffered_capacity());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  constexpr std::string_view rss_flag = "--rss-mib=";
  if (argc == 2 && std::string_view(argv[1]).starts_with(rss_flag)) {
    return run_rss(std::strtoull(argv[1] + rss_flag.size(), nullptr, 10));
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
