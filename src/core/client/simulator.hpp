#pragma once
// `simulate`: a fleet of room devices in one process, each a client
// (client.hpp) with its own room_model. Devices are spread over a few io
// threads (one io_context each), not a thread per device. Each device, once
// bound, reports its room every interval (± jitter), asks for a
// recommendation every query_every and steers its room towards the answer.
// With interval 0 it sends as fast as the server takes reports: at most
// `window` reports unacknowledged, each group followed by a ping that the
// server answers only once the reports before it are committed (PROTOCOL.md
// §3.5 semantics, via reply_after_commit), so the server's back-pressure
// paces the fleet and "acknowledged" means "stored".
//
// Report ids are RUN-SEQ: RUN is unique per run (time and randomness), SEQ
// counts per device, and a device is one room, so ids are unique per room
// across runs and restarts (PROTOCOL.md §3.1). Asio stays behind the pimpl.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "core/base/error.hpp"
#include "core/client/client.hpp"

namespace iotxmpp {

struct simulator_options {
  client_options client;  // server, domain, connect timeout, login, TLS
  // Device n logs in as this name with "{n}" replaced by n as in its room's
  // name, zero-padded to 4 digits ("dev{n}": dev0001 for room-0001), all
  // with client.password. Empty: every device uses client.user (or
  // ANONYMOUS when that is empty).
  std::string user_pattern;
  std::size_t count = 10;  // devices, rooms room-0001 .. room-NNNN
  unsigned threads = 0;    // io threads; 0: one per core (never more than devices)
  double ramp = 200;       // connections started per second; 0: all at once
  std::chrono::microseconds interval = std::chrono::seconds(10);  // 0: as fast as acknowledged
  std::chrono::microseconds jitter =
      std::chrono::seconds(1);  // ± on each interval, at most half of it
  std::chrono::microseconds query_every = std::chrono::seconds(60);  // 0: never ask
  std::chrono::milliseconds reply_timeout{10000};  // for pings and recommendations
  std::chrono::microseconds duration{0};           // end of the run after this long; 0: no limit
  std::uint64_t reports = 0;  // end after this many reports in all; 0: no limit
  std::size_t window = 64;    // unacknowledged reports per device (interval 0)
  std::uint64_t seed = 1;     // rooms' character, jitter and noise
  std::string run_id;         // report id prefix; empty: made fresh
  // SIGINT/SIGTERM call stop() (the run ends cleanly, with its stats).
  bool handle_signals = false;
};

// A snapshot of a run; every count is since the start.
struct simulator_stats {
  std::size_t devices = 0;
  std::size_t connected = 0;       // bound now
  std::size_t peak_connected = 0;  // most bound at once
  std::size_t failed = 0;          // devices that could not connect or lost their stream
  std::uint64_t reports_sent = 0;
  std::uint64_t reports_acknowledged = 0;  // committed by the server (ping after them answered)
  std::uint64_t reports_rejected = 0;      // answered with an error
  std::uint64_t queries_sent = 0;
  std::uint64_t queries_answered = 0;
  std::optional<double> rtt_p50_ms, rtt_p99_ms;  // recommendation round trip
  std::uint64_t errors = 0;  // every failure: connect, stream, rejected, timeouts
  std::string first_error;   // the first failure's message, for the summary
  double elapsed_seconds = 0;
  bool finished = false;
};

class simulator {
 public:
  // Checks the options (error_kind::usage: count 0, window 0, negative
  // durations) and starts the io threads; devices connect at the ramp rate.
  static result<std::unique_ptr<simulator>> start(simulator_options options);
  ~simulator();  // stop() and wait()

  // The run id in every report id of this run.
  const std::string& run_id() const;

  // Ends the run: devices stop sending, wait (within reply_timeout) for what
  // they sent to be acknowledged, close their streams; then the threads end.
  // Thread-safe, idempotent.
  void stop();
  // Blocks until the run has ended (duration, reports, stop(), or every device
  // failed) and the threads are joined.
  void wait();
  // wait() for at most `timeout`; true when the run has ended.
  bool wait_for(std::chrono::milliseconds timeout);

  // Thread-safe; cheap enough to call once a second.
  simulator_stats stats() const;

 private:
  struct impl;
  explicit simulator(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

// A fresh run id: the current time in seconds and 32 random bits, in base 36
// ("t3k9a1-5f2c9d"): short, and never the same in two runs.
std::string new_run_id();

}  // namespace iotxmpp
