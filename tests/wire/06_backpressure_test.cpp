// 06: a full store writer slows devices down and loses nothing.

#include <string>
#include <thread>
#include <vector>

#include "wire/wire_fixture.hpp"

namespace iotxmpp::test {
namespace {

TEST(Wire06BackPressure, TinyWriterQueueStoresEveryPipelinedReport) {
  constexpr int clients = 4;
  constexpr int reports = 500;
  test_server server([](server_options& o) {
    o.writer.queue_capacity = 3;  // full almost all the time
    o.writer.max_batch = 2;
  });
  std::vector<std::unique_ptr<raw_client>> devices;
  for (int c = 0; c < clients; ++c) {
    devices.push_back(std::make_unique<raw_client>("127.0.0.1", server.port()));
    devices.back()->negotiate("bp" + std::to_string(c));
  }
  std::vector<std::thread> senders;
  for (int c = 0; c < clients; ++c) {
    senders.emplace_back([&, c] {
      std::string burst;  // all at once: the server must stall its reads
      for (int i = 0; i < reports; ++i)
        burst += report("bp-" + std::to_string(c) + "-" + std::to_string(i),
                        "room-" + std::to_string(c));
      devices[c]->send(burst);
    });
  }
  for (auto& t : senders) t.join();
  for (int c = 0; c < clients; ++c) ASSERT_TRUE(sync(*devices[c], "done" + std::to_string(c)));
  EXPECT_EQ(open_test_store(server)->count_reports().value(),
            static_cast<std::size_t>(clients * reports));
}

}  // namespace
}  // namespace iotxmpp::test

namespace iotxmpp::test {
namespace {

// A report the database refuses (a room longer than its column) is not
// vouched for: the ping after it is answered with an error, not a result.
TEST(Wire06Lost, PingAfterARefusedWriteIsAnError) {
  test_server server;
  raw_client device("127.0.0.1", server.port());
  device.negotiate("lost");
  device.send(report("long-room", std::string(300, 'r')));
  device.send(ping("p1"));
  std::string got = device.read_until("id='p1'");
  got += device.read_until("</iq>");
  EXPECT_NE(got.find("type='error'"), std::string::npos) << got;
  EXPECT_NE(got.find("<internal-server-error"), std::string::npos) << got;
  // Told once: the next ping vouches for what came after.
  device.send(report("fine"));
  device.send(ping("p2"));
  got = device.read_until("id='p2'");
  got += device.read_until(">");
  EXPECT_NE(got.find("type='result'"), std::string::npos) << got;
  EXPECT_EQ(open_test_store(server)->count_reports().value(), 1u);
}

}  // namespace
}  // namespace iotxmpp::test
