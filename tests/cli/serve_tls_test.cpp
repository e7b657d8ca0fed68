// `iotxmpp serve` with TLS as an operator runs it: a bad certificate or key
// is one line and exit 2 before anything listens; SIGHUP swaps the
// certificate for new sessions while live ones go on.

#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <thread>

#include "support/child_process.hpp"
#include "support/process.hpp"
#include "support/raw_client.hpp"
#include "support/test_pki.hpp"
#include "wire/wire_fixture.hpp"

namespace iotxmpp::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

std::vector<std::string> serve_args(const temp_dir& dir, const std::string& cert,
                                    const std::string& key, unsigned short port,
                                    unsigned short tls_port) {
  return {"serve",
          "--db",
          "sqlite:" + dir.path() + "/s.db",
          "--listen",
          "127.0.0.1:" + std::to_string(port),
          "--listen-tls",
          "127.0.0.1:" + std::to_string(tls_port),
          "--tls-cert",
          cert,
          "--tls-key",
          key};
}

// The single stderr line of a failed start, and its exit code.
void expect_start_error(const std::vector<std::string>& args, const std::string& needle) {
  auto r = run_iotxmpp(args, {}, 10s);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST(ServeTls, BadCertificateOrKeyIsOneLineAndExit2) {
  test_pki pki;
  temp_dir dir;
  const auto p = raw_client::free_port(), q = raw_client::free_port();
  expect_start_error(serve_args(dir, dir.path() + "/missing.pem", pki.server_key(), p, q),
                     "--tls-cert " + dir.path() + "/missing.pem: cannot be read");
  expect_start_error(serve_args(dir, pki.server_key(), pki.server_key(), p, q),
                     "not a PEM certificate chain");
  expect_start_error(serve_args(dir, pki.server_cert(), pki.other_key(), p, q),
                     "does not match the certificate");
  expect_start_error(serve_args(dir, pki.expired_cert(), pki.expired_key(), p, q),
                     "the certificate has expired");
  expect_start_error({"serve", "--db", "sqlite:" + dir.path() + "/s.db", "--listen",
                      "127.0.0.1:" + std::to_string(p), "--tls-cert", pki.server_cert()},
                     "--tls-cert and --tls-key go together");
  EXPECT_FALSE(fs::exists(dir.path() + "/s.db")) << "nothing was started";
}

std::unique_ptr<raw_client> connect_tls(unsigned short port, const std::string& ca) {
  for (int i = 0; i < 100; ++i) {
    try {
      auto c = std::make_unique<raw_client>("127.0.0.1", port);
      c->start_tls({.ca_file = ca});
      return c;
    } catch (const std::exception&) {
      std::this_thread::sleep_for(50ms);
    }
  }
  return nullptr;
}

TEST(ServeTls, SighupReloadsTheCertificateForNewSessionsOnly) {
  test_pki pki;
  temp_dir dir;
  const std::string cert = dir.path() + "/cert.pem", key = dir.path() + "/key.pem";
  fs::copy_file(pki.server_cert(), cert);
  fs::copy_file(pki.server_key(), key);
  const auto p = raw_client::free_port(), q = raw_client::free_port();
  child_process serve(serve_args(dir, cert, key, p, q));

  auto old_session = connect_tls(q, pki.ca_cert());
  ASSERT_TRUE(old_session) << serve.err();
  const std::string first = old_session->peer_fingerprint();
  old_session->send(raw_client::header());
  old_session->read_until("</stream:features>");
  old_session->send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='ANONYMOUS'/>");
  ASSERT_NE(old_session->read_until("/>").find("<success"), std::string::npos);
  old_session->bind_after_auth("old");

  // A broken file first: the old certificate stays in use.
  fs::resize_file(cert, 10);
  serve.signal(SIGHUP);
  std::this_thread::sleep_for(300ms);
  auto during = connect_tls(q, pki.ca_cert());
  ASSERT_TRUE(during);
  EXPECT_EQ(during->peer_fingerprint(), first);

  fs::copy_file(pki.other_cert(), cert, fs::copy_options::overwrite_existing);
  fs::copy_file(pki.other_key(), key, fs::copy_options::overwrite_existing);
  serve.signal(SIGHUP);
  std::string now;
  for (int i = 0; i < 50 && (now.empty() || now == first); ++i) {
    std::this_thread::sleep_for(100ms);
    auto fresh = connect_tls(q, pki.ca_cert());
    ASSERT_TRUE(fresh);
    now = fresh->peer_fingerprint();
  }
  EXPECT_NE(now, first) << "new sessions get the reloaded certificate";
  // The session from before both reloads goes on.
  ASSERT_TRUE(sync(*old_session, "after-reload"));
  serve.signal(SIGTERM);
  EXPECT_EQ(serve.wait(10s), 0) << serve.err();
  EXPECT_NE(serve.err().find("TLS certificate not reloaded"), std::string::npos) << serve.err();
  EXPECT_NE(serve.err().find("TLS certificate reloaded"), std::string::npos) << serve.err();
}

}  // namespace
}  // namespace iotxmpp::test
