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
// Devices never lose a report. Each keeps what it sent until a ping after it
// is answered (unacked_queue.hpp), at most `window` reports: a device with a
// full queue waits. After any loss of its connection (a stream error such as
// system-shutdown, a dropped TCP connection, a killed server) a device that
// had been bound reconnects with capped exponential back-off and jitter,
// logs in again the same way and resends everything unacknowledged with its
// original id (the server stores a resend once). A ping not answered within
// reply_timeout (the database is down) is not an error: the device waits
// for the late answer. Only a refused login (or another answer that a retry
// cannot change) makes a device give up; a device whose first connection
// fails gives up too, so a wrong address ends the run.
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
  // Unacknowledged reports a device holds (and with interval 0 keeps in
  // flight); a device with this many waits for acknowledgements.
  std::size_t window = 64;
  std::uint64_t seed = 1;  // rooms' character, jitter and noise
  std::string run_id;      // report id prefix; empty: made fresh
  // At the end of the run, how long devices wait (reconnecting if need be)
  // for their outstanding reports to be acknowledged; what is left then is lost.
  std::chrono::milliseconds drain_timeout{30000};
  // Delays between reconnection attempts after a lost connection.
  backoff_policy reconnect{std::chrono::milliseconds(200), std::chrono::milliseconds(5000), 0.5};
  // SIGINT/SIGTERM call stop() (the run ends cleanly, with its stats).
  bool handle_signals = false;
};

// A snapshot of a run; every count is since the start.
struct simulator_stats {
  std::size_t devices = 0;
  std::size_t connected = 0;       // bound now
  std::size_t peak_connected = 0;  // most bound at once
  std::size_t failed = 0;          // devices that gave up (first connection failed, login refused)
  std::size_t reconnecting = 0;    // devices that lost their connection and are retrying now
  std::size_t waiting_for_acks = 0;        // devices with a ping unanswered past reply_timeout now
  std::uint64_t disconnects = 0;           // connections lost after bind
  std::uint64_t reconnects = 0;            // logins again after such a loss
  std::uint64_t resumes = 0;               // of those, streams resumed (XEP-0198)
  std::uint64_t reports_sent = 0;          // reports made and sent (each counted once)
  std::uint64_t reports_acknowledged = 0;  // committed by the server (ping after them answered)
  std::uint64_t reports_rejected = 0;      // answered with an error message (bad report)
  std::uint64_t reports_resent = 0;        // writes again on a new connection
  std::uint64_t reports_unacknowledged = 0;  // sent, neither acknowledged nor rejected yet
  // Sent and never acknowledged: at the end, what is still unacknowledged,
  // plus reports whose ping the server answered with an error (it lost one
  // of them for good). 0 in a normal run.
  std::uint64_t reports_lost = 0;
  std::uint64_t ack_timeouts = 0;  // pings unanswered within reply_timeout (not errors)
  std::uint64_t queries_sent = 0;
  std::uint64_t queries_answered = 0;
  std::optional<double> rtt_p50_ms, rtt_p99_ms;  // recommendation round trip
  // Failures a retry does not mend: devices that gave up, rejected reports,
  // lost reports, recommendations answered with an error. Lost connections,
  // reconnection attempts and late acknowledgements are not errors.
  std::uint64_t errors = 0;
  std::string first_error;       // the first failure's message, for the summary
  std::string first_disconnect;  // why the first lost connection was lost
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

  // Ends the run: devices stop making reports, wait (within drain_timeout,
  // reconnecting if need be) for what they sent to be acknowledged, close
  // their streams; then the threads end.
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
