#pragma once
// A device that keeps reporting on a thread of its own over a raw socket
// (raw_client), and keeps account of what became of each report:
//   sent          written to the socket;
//   accepted      an IQ sent after it (jabber:iq:version, answered at once)
//                 came back: the server had read the report and queued it
//                 for the store (a session reads in order, and pauses
//                 reading when the writer's queue is full);
//   acknowledged  a ping sent after it was answered with a result, or an
//                 XEP-0198 <a h/> covers it: the server vouches that it is
//                 stored (PROTOCOL.md §3.5).
// Reports go in batches: `batch` reports, the version IQ, then the barrier
// (a ping, or <r/> with stream management). Report ids are NAME-SEQ, unique
// per device name, so that tests can find each one in the database.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/xml/stream_framer.hpp"
#include "support/raw_client.hpp"

namespace iotxmpp::test {

enum class ack_by { ping, stream_management };

struct reporting_device_options {
  unsigned short port = 0;   // the server on 127.0.0.1
  std::string name = "dev";  // the resource, and the prefix of every report id
  std::string room = "kitchen";
  ack_by acks = ack_by::ping;
  int batch = 5;  // reports between two barriers
  // Batches sent but not acknowledged before the device stops sending until
  // an acknowledgement comes; 0: it never waits (it keeps sending through an
  // outage, as a device with a big enough buffer does).
  int window = 0;
  std::chrono::milliseconds pause{2};  // between two batches
  // Report ids to send (again) first, before NAME-1...: the resends of a
  // device that lost its connection before they were acknowledged.
  std::vector<std::string> resend;
};

class reporting_device {
 public:
  // Connects, negotiates ANONYMOUS and binds NAME (and enables XEP-0198) on
  // the calling thread, throwing when any of that fails; then reports on its
  // own thread until stop() or the end of the stream.
  explicit reporting_device(reporting_device_options options);
  ~reporting_device();  // stop()
  reporting_device(const reporting_device&) = delete;
  reporting_device& operator=(const reporting_device&) = delete;

  // Sends no more batches but goes on reading, so that what was sent can
  // still be acknowledged (wait for count().acknowledged == count().sent).
  void stop_sending() { no_more_ = true; }
  // Stops sending and reading, joins the thread. The connection stays open
  // until drop() or destruction. Idempotent.
  void stop();
  // stop(), then closes the connection at once (a device that vanishes).
  void drop();

  struct counts {
    std::size_t sent = 0, accepted = 0, acknowledged = 0;
  };
  counts count() const;
  // Ids in the order sent (resends first).
  std::vector<std::string> sent_ids() const;
  std::vector<std::string> accepted_ids() const;
  std::vector<std::string> acknowledged_ids() const;
  // Sent and not acknowledged: what a device resends after a reconnection.
  std::vector<std::string> unacknowledged_ids() const;

  // The server ended the stream (or the connection).
  bool ended() const { return ended_.load(); }
  // The condition of the server's stream error ("system-shutdown"), "" when
  // none came.
  std::string stream_error() const;
  // Anything that should not happen: an error reply to a report, a marker or
  // a ping, an element the device does not expect, a broken stream.
  std::vector<std::string> problems() const;
  const std::string& jid() const { return jid_; }

 private:
  struct batch_record {
    std::size_t first = 0, size = 0;    // indices into ids_
    std::uint32_t stanzas_through = 0;  // client stanzas sent up to its marker
  };
  void run();
  void send_batch();
  void absorb(std::string_view bytes);
  void on_element(pugi::xml_node element);
  std::vector<std::string> ids_between(std::size_t from, std::size_t to) const;
  std::size_t batches_unacknowledged() const;

  reporting_device_options options_;
  raw_client client_;
  std::string jid_;
  stream_framer framer_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> no_more_{false};
  std::atomic<bool> ended_{false};
  bool send_failed_ = false;       // device thread only
  std::uint32_t stanzas_out_ = 0;  // device thread only
  std::uint32_t stanzas_in_ = 0;   // device thread only
  std::size_t next_seq_ = 1;       // device thread only
  std::size_t resent_ = 0;         // device thread only: resend ids already sent

  mutable std::mutex mutex_;  // guards what follows
  std::vector<std::string> ids_;
  std::vector<batch_record> batches_;
  std::size_t batches_accepted_ = 0;      // batches before this one were accepted
  std::size_t batches_acknowledged_ = 0;  // ... acknowledged
  std::string stream_error_;
  std::vector<std::string> problems_;
};

}  // namespace iotxmpp::test
