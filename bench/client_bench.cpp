// Client costs against an in-process server: connecting and binding many
// clients on one thread, the heap each bound idle client holds, and IQ
// round trips with many clients in flight. Only the client side runs on the
// benchmark thread; the server has its own threads, so the thread-local heap
// counter below sees client allocations only.

#include <benchmark/benchmark.h>
#include <malloc.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <new>
#include <vector>

#include "core/base/asio.hpp"
#include "core/base/log.hpp"
#include "core/client/client.hpp"
#include "core/client/queries.hpp"
#include "core/server/server.hpp"

namespace {

thread_local long long live_heap = 0;

void* counted(void* p) {
  if (!p) throw std::bad_alloc();
  live_heap += static_cast<long long>(malloc_usable_size(p));
  return p;
}

void release(void* p) noexcept {
  if (!p) return;
  live_heap -= static_cast<long long>(malloc_usable_size(p));
  std::free(p);
}

}  // namespace

void* operator new(std::size_t n) { return counted(std::malloc(n ? n : 1)); }
void* operator new[](std::size_t n) { return counted(std::malloc(n ? n : 1)); }
void* operator new(std::size_t n, std::align_val_t a) {
  return counted(std::aligned_alloc(
      static_cast<std::size_t>(a),
      (n + static_cast<std::size_t>(a) - 1) & ~(static_cast<std::size_t>(a) - 1)));
}
void operator delete(void* p) noexcept { release(p); }
void operator delete[](void* p) noexcept { release(p); }
void operator delete(void* p, std::size_t) noexcept { release(p); }
void operator delete[](void* p, std::size_t) noexcept { release(p); }
void operator delete(void* p, std::align_val_t) noexcept { release(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { release(p); }

namespace {

using namespace iotxmpp;
using namespace std::chrono_literals;

// One server for the whole run, on 127.0.0.1:0 with a throwaway SQLite file.
struct bench_server {
  bench_server() {
    log::set_level(log::level::error);
    dir = std::filesystem::temp_directory_path() /
          ("iotxmpp-client-bench-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    server_options o;
    o.config.listen = {"127.0.0.1:0"};
    o.config.threads = 1;
    o.config.max_negotiating_per_address = 1'000'000;  // every client comes from 127.0.0.1
    o.store_url = "sqlite:" + (dir / "bench.db").string();
    s = std::move(server::start(std::move(o)).value());
    port = s->endpoints().at(0).second;
  }
  ~bench_server() {
    s.reset();
    std::filesystem::remove_all(dir);
  }
  std::filesystem::path dir;
  std::unique_ptr<server> s;
  unsigned short port = 0;
};

bench_server& shared_server() {
  static bench_server s;
  return s;
}

client_options options() {
  client_options o;
  o.server = {"127.0.0.1", shared_server().port};
  o.connect_timeout = 30s;
  return o;
}

template <class F>
void run_until(asio::io_context& io, F done) {
  io.restart();
  while (!done()) io.run_one_for(100ms);
}

// range(0) clients connect and bind at once on one io_context. Reports the
// heap each bound idle client holds (client side only) and binds per second.
void connect_clients(benchmark::State& state) {
  const auto n = static_cast<int>(state.range(0));
  long long heap_per_client = 0;
  for (auto _ : state) {
    asio::io_context io(1);
    run_until(io, [] { return true; });
    long long heap_before = live_heap;
    std::vector<std::unique_ptr<client>> clients;
    int bound = 0, failed = 0;
    for (int i = 0; i < n; ++i) {
      clients.push_back(std::make_unique<client>(io, options()));
      clients.back()->connect([&](const result<void>& r) { ++(r ? bound : failed); });
    }
    run_until(io, [&] { return bound + failed == n; });
    heap_per_client = (live_heap - heap_before) / n;
    if (failed) state.SkipWithError("some clients failed to bind");
    state.PauseTiming();
    for (auto& c : clients) c->close();
    run_until(io, [&] {
      for (auto& c : clients)
        if (c->active()) return false;
      return true;
    });
    state.ResumeTiming();
  }
  state.counters["heap_bytes_per_client"] = static_cast<double>(heap_per_client);
  state.counters["binds_per_s"] =
      benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(connect_clients)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond)->UseRealTime();

// range(0) bound clients each keep one ping in flight: IQ round trips per
// second through client and server.
void ping_round_trips(benchmark::State& state) {
  const auto n = static_cast<int>(state.range(0));
  asio::io_context io(1);
  std::vector<std::unique_ptr<client>> clients;
  int bound = 0;
  for (int i = 0; i < n; ++i) {
    clients.push_back(std::make_unique<client>(io, options()));
    clients.back()->connect([&](const result<void>& r) { bound += r ? 1 : 0; });
  }
  run_until(io, [&] { return bound == n; });
  constexpr int per_client = 50;
  for (auto _ : state) {
    int answered = 0;
    std::function<void(client&, int)> ping = [&](client& c, int left) {
      c.send_iq(ping_request("iot.local"), 10s, [&, left, cp = &c](result<xml_element> r) {
        if (!r) std::abort();
        ++answered;
        if (left > 1) ping(*cp, left - 1);
      });
    };
    for (auto& c : clients) ping(*c, per_client);
    run_until(io, [&] { return answered == n * per_client; });
  }
  state.counters["round_trips_per_s"] = benchmark::Counter(
      static_cast<double>(n * per_client), benchmark::Counter::kIsIterationInvariantRate);
  for (auto& c : clients) c->close();
  run_until(io, [&] {
    for (auto& c : clients)
      if (c->active()) return false;
    return true;
  });
}
BENCHMARK(ping_round_trips)->Arg(1)->Arg(100)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
