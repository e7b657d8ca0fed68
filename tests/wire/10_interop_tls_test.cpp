// 10: stock XMPP clients log in as provisioned accounts over TLS: a
// libstrophe device (tests/interop/strophe_device.c) with STARTTLS and
// SCRAM-SHA-256, and go-sendxmpp (the Debian package) over STARTTLS,
// trusting the test's own CA, sending a status report with --raw.

#include <thread>

#include "support/process.hpp"
#include "support/test_pki.hpp"
#include "wire/wire_fixture.hpp"

namespace iotxmpp::test {
namespace {

std::unique_ptr<test_server> tls_server(const test_pki& pki) {
  return std::make_unique<test_server>([&](server_options& o) {
    o.config.tls_cert = pki.server_cert();
    o.config.tls_key = pki.server_key();
    o.config.anonymous = false;
  });
}

// The room's latest stored report, waited for (the writer commits in
// batches).
std::optional<status_report> stored_report(const test_server& s, const std::string& room) {
  auto db = open_test_store(s);
  for (int i = 0; i < 100; ++i) {
    auto latest = db->latest_report(room);
    if (latest && *latest) return *latest;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return std::nullopt;
}

TEST(Wire10InteropTls, LibstropheLogsInWithStarttlsAndScramSha256AsAnAccount) {
  test_pki pki;
  auto server = tls_server(pki);
  add_device(*server, "strophe1", "device-secret", {"living-*"});
  auto r = run_process({IOTXMPP_STROPHE_DEVICE, "127.0.0.1", std::to_string(server->port()),
                        "living-room", "strophe-tls-1"},
                       {}, std::chrono::seconds(20),
                       {"STROPHE_JID=strophe1@iot.local", "STROPHE_PASSWORD=device-secret",
                        "STROPHE_CAFILE=" + pki.ca_cert(), "STROPHE_DEBUG=1"});
  ASSERT_EQ(r.exit_code, 0) << "stdout: " << r.out << "\nstderr: " << r.err;
  EXPECT_NE(r.err.find("<starttls"), std::string::npos) << "TLS was negotiated";
  EXPECT_NE(r.err.find("mechanism=\"SCRAM-SHA-256"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("type=\"result\""), std::string::npos) << r.out;
  auto stored = stored_report(*server, "living-room");
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->stanza_id, "strophe-tls-1");
  EXPECT_EQ(stored->device_jid.rfind("strophe1@iot.local/", 0), 0u) << stored->device_jid;
}

TEST(Wire10InteropTls, LibstropheWithAWrongPasswordIsRefused) {
  test_pki pki;
  auto server = tls_server(pki);
  add_device(*server, "strophe1", "device-secret", {"*"});
  auto r = run_process({IOTXMPP_STROPHE_DEVICE, "127.0.0.1", std::to_string(server->port()),
                        "living-room", "strophe-bad"},
                       {}, std::chrono::seconds(20),
                       {"STROPHE_JID=strophe1@iot.local", "STROPHE_PASSWORD=wrong",
                        "STROPHE_CAFILE=" + pki.ca_cert(), "STROPHE_DEBUG=1"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("not-authorized"), std::string::npos) << r.err;
  EXPECT_EQ(open_test_store(*server)->count_reports().value(), 0u);
}

TEST(Wire10InteropTls, GoSendxmppSendsARawStatusReportOverStarttls) {
  if (run_process({"sh", "-c", "command -v go-sendxmpp"}).exit_code != 0)
    FAIL() << "go-sendxmpp is missing: scripts/setup-deps installs it";
  test_pki pki;
  auto server = tls_server(pki);
  add_device(*server, "gosend", "go-secret", {"hall"});
  temp_dir home;  // no user config file of go-sendxmpp's
  auto r = run_process({"go-sendxmpp", "-u", "gosend@iot.local", "-p", "go-secret", "-j",
                        "127.0.0.1:" + std::to_string(server->port()), "--timeout", "10", "--raw"},
                       report("gosend-1", "hall", "22.75"), std::chrono::seconds(30),
                       {"SSL_CERT_FILE=" + pki.ca_cert(), "HOME=" + home.path()});
  ASSERT_EQ(r.exit_code, 0) << "stdout: " << r.out << "\nstderr: " << r.err;
  auto stored = stored_report(*server, "hall");
  ASSERT_TRUE(stored.has_value()) << r.err;
  EXPECT_EQ(stored->stanza_id, "gosend-1");
  EXPECT_EQ(stored->value_of("temperature"), 22.75);
  EXPECT_EQ(stored->device_jid.rfind("gosend@iot.local/", 0), 0u) << stored->device_jid;
}

}  // namespace
}  // namespace iotxmpp::test
