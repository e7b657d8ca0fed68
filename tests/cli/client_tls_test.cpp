// The client commands with TLS and accounts, end to end: the binary against
// an in-process server with the test CA's certificate (STARTTLS on its plain
// listener, direct TLS on the second), accounts provisioned in its store.

#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "support/process.hpp"
#include "support/test_pki.hpp"
#include "wire/wire_fixture.hpp"

namespace iotxmpp::test {
namespace {

using namespace std::chrono_literals;

std::string at(unsigned short port) { return "127.0.0.1:" + std::to_string(port); }

// A server with the test CA's certificate: STARTTLS required on listener 0,
// direct TLS on listener 1; `dev1` (password "pw-1") may report `kitchen`.
struct tls_setup {
  test_pki pki;
  temp_dir files;
  test_server server{[this](server_options& o) {
    o.config.tls_cert = pki.server_cert();
    o.config.tls_key = pki.server_key();
    o.config.listen_tls = {"127.0.0.1:0"};
  }};

  tls_setup() { add_device(server, "dev1", "pw-1", {"kitchen", "room-*"}); }

  unsigned short starttls_port() const { return server.port(0); }
  unsigned short direct_port() const { return server.port(1); }

  std::string password_file(const std::string& password) {
    std::string path = files.path() + "/password-" + std::to_string(++files_made_);
    std::ofstream(path) << password << "\n";
    return path;
  }

 private:
  int files_made_ = 0;
};

process_result send_status(std::vector<std::string> flags, const std::string& room = "kitchen",
                           const std::vector<std::string>& env = {}) {
  std::vector<std::string> args{"send",          "status", "--room", room,
                                "--temperature", "20.5",   "--json"};
  args.insert(args.end(), flags.begin(), flags.end());
  return run_iotxmpp(args, {}, 20s, env);
}

std::size_t lines(const std::string& s) {
  return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n'));
}

TEST(CliClientTls, StartTlsAndScramLogInAsTheAccount) {
  tls_setup t;
  auto r = send_status({"--server", at(t.starttls_port()), "--tls-ca", t.pki.ca_cert(), "--user",
                        "dev1", "--password-file", t.password_file("pw-1")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_TRUE(j["jid"].get<std::string>().starts_with("dev1@iot.local/")) << r.out;
  auto latest = open_test_store(t.server)->latest_report("kitchen");
  ASSERT_TRUE(latest && *latest);
  EXPECT_TRUE((*latest)->device_jid.starts_with("dev1@iot.local/")) << (*latest)->device_jid;
}

TEST(CliClientTls, DirectTlsWithThePasswordFromTheEnvironment) {
  tls_setup t;
  auto r = send_status(
      {"--server", at(t.direct_port()), "--tls", "--tls-ca", t.pki.ca_cert(), "--user", "dev1"},
      "kitchen", {"IOTXMPP_PASSWORD=pw-1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(nlohmann::json::parse(r.out)["jid"].get<std::string>().starts_with("dev1@"));

  // Anonymous over direct TLS too; the plain port does not speak TLS first.
  r = send_status({"--server", at(t.direct_port()), "--tls", "--tls-ca", t.pki.ca_cert()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = send_status(
      {"--server", at(t.starttls_port()), "--tls", "--tls-ca", t.pki.ca_cert(), "--timeout", "2s"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(lines(r.err), 1u) << r.err;
}

TEST(CliClientTls, AnUntrustedCertificateIsRefused) {
  tls_setup t;
  test_pki stranger;
  for (unsigned short port : {t.starttls_port(), t.direct_port()}) {
    std::vector<std::string> flags{"--server", at(port), "--tls-ca", stranger.ca_cert()};
    if (port == t.direct_port()) flags.push_back("--tls");
    auto r = send_status(flags);
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_NE(r.err.find("certificate verify failed"), std::string::npos) << r.err;
    EXPECT_EQ(lines(r.err), 1u) << r.err;
  }
  // Without --tls-ca the system's CAs do not know the test CA either.
  auto r = send_status({"--server", at(t.starttls_port())});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("certificate verify failed"), std::string::npos) << r.err;
}

TEST(CliClientTls, TheCertificateMustNameTheDomain) {
  tls_setup t;
  // Direct TLS: the handshake comes before the stream names the domain.
  auto r = send_status({"--server", at(t.direct_port()), "--tls", "--tls-ca", t.pki.ca_cert(),
                        "--domain", "elsewhere.example"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("certificate verify failed"), std::string::npos) << r.err;
}

TEST(CliClientTls, InsecureSkipsTheCertificateCheck) {
  tls_setup t;
  auto r = send_status({"--server", at(t.starttls_port()), "--tls-insecure", "--user", "dev1",
                        "--password-file", t.password_file("pw-1")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = send_status({"--server", at(t.direct_port()), "--tls", "--tls-insecure"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
}

TEST(CliClientTls, WrongPasswordExits3WithTheCondition) {
  tls_setup t;
  auto r = send_status({"--server", at(t.starttls_port()), "--tls-ca", t.pki.ca_cert(), "--user",
                        "dev1", "--password-file", t.password_file("not-it")});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.err, "iotxmpp: authentication failed: not-authorized\n");
  r = send_status({"--server", at(t.starttls_port()), "--tls-ca", t.pki.ca_cert(), "--user",
                   "nobody", "--password-file", t.password_file("pw-1")});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.err, "iotxmpp: authentication failed: not-authorized\n");
  EXPECT_FALSE(open_test_store(t.server)->latest_report("kitchen").value().has_value());
}

TEST(CliClientTls, RequiredTlsIsNotGivenUpForPlainText) {
  test_server plain;  // no certificate: no STARTTLS
  test_pki pki;
  auto r = send_status({"--server", at(plain.port()), "--tls-ca", pki.ca_cert()});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("does not offer STARTTLS"), std::string::npos) << r.err;
  EXPECT_EQ(lines(r.err), 1u) << r.err;
  EXPECT_FALSE(open_test_store(plain)->latest_report("kitchen").value().has_value());
}

TEST(CliClientTls, CredentialFlagsAreCheckedFirst) {
  temp_dir dir;
  auto r = send_status({"--user", "dev1"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--password-file"), std::string::npos) << r.err;
  EXPECT_EQ(lines(r.err), 1u) << r.err;

  r = send_status({"--user", "dev1", "--password-file", dir.path() + "/missing"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--password-file: cannot read " + dir.path() + "/missing"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(lines(r.err), 1u) << r.err;

  r = send_status({"--tls-ca", dir.path() + "/no-ca.pem"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--tls-ca: cannot read"), std::string::npos) << r.err;
  EXPECT_EQ(lines(r.err), 1u) << r.err;

  std::ofstream(dir.path() + "/empty").flush();
  r = send_status({"--user", "dev1", "--password-file", dir.path() + "/empty"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(lines(r.err), 1u) << r.err;
}

TEST(CliClientTls, SimulateLogsEachDeviceInAsItsAccount) {
  tls_setup t;
  add_device(t.server, "dev0001", "fleet", {"room-0001"});
  add_device(t.server, "dev0002", "fleet", {"room-0002"});
  std::string password = t.password_file("fleet");
  auto r = run_iotxmpp({"simulate", "--server", at(t.starttls_port()), "--tls-ca", t.pki.ca_cert(),
                        "--user-pattern", "dev{n}", "--password-file", password, "--count", "2",
                        "--ramp", "0", "--interval", "200ms", "--duration", "2s", "--json"},
                       {}, 30s);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto db = open_test_store(t.server);
  for (const char* room : {"room-0001", "room-0002"}) {
    auto latest = db->latest_report(room);
    ASSERT_TRUE(latest && *latest) << room;
    EXPECT_TRUE((*latest)->device_jid.starts_with(std::string("dev") + (room + 5) + "@iot.local/"))
        << (*latest)->device_jid;
  }

  r = run_iotxmpp(
      {"simulate", "--server", at(t.starttls_port()), "--tls-ca", t.pki.ca_cert(), "--user-pattern",
       "ghost{n}", "--password-file", password, "--count", "2", "--duration", "5s"},
      {}, 30s);
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("authentication failed: not-authorized"), std::string::npos) << r.err;

  r = run_iotxmpp({"simulate", "--user-pattern", "dev", "--password-file", password});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--user-pattern"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace iotxmpp::test
