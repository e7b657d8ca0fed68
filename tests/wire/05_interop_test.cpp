// 05: a device built on libstrophe (tests/interop/strophe_device.c) talks to
// the server: anonymous login, a status report stored, a recommendation.

#include <thread>

#include "support/process.hpp"
#include "wire/wire_fixture.hpp"

namespace iotxmpp::test {
namespace {

TEST(Wire05Interop, LibstropheDeviceReportsAndGetsRecommendation) {
  test_server server;
  auto r = run_process({IOTXMPP_STROPHE_DEVICE, "127.0.0.1", std::to_string(server.port()),
                        "living-room", "strophe-1"},
                       {}, std::chrono::seconds(20));
  ASSERT_EQ(r.exit_code, 0) << "stdout: " << r.out << "\nstderr: " << r.err;
  EXPECT_NE(r.out.find("type=\"result\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("room=\"living-room\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("<target"), std::string::npos) << r.out;
  // libstrophe wrote the report before the IQ: the answer used it.
  EXPECT_EQ(r.out.find("action=\"unknown\""), std::string::npos) << r.out;

  auto db = open_test_store(server);
  std::optional<status_report> stored;
  for (int i = 0; i < 50 && !stored; ++i) {
    auto latest = db->latest_report("living-room");
    ASSERT_TRUE(latest.has_value());
    stored = *latest;
    if (!stored) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->stanza_id, "strophe-1");
  EXPECT_EQ(stored->value_of("temperature"), 19.25);
  EXPECT_NE(stored->device_jid.find("@127.0.0.1/"), std::string::npos) << stored->device_jid;
  std::size_t recommendations = 0;
  for (int i = 0; i < 50 && recommendations == 0; ++i) {
    recommendations = db->count_recommendations().value();
    if (!recommendations) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(recommendations, 1u);
}

}  // namespace
}  // namespace iotxmpp::test
