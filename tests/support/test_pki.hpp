#pragma once
// A private certificate authority for TLS tests, made with the openssl
// command in a fresh temporary directory: a CA, a server certificate for
// "iot.local", "localhost" and 127.0.0.1 signed by it (with the CA in a chain
// file), a second server certificate for reload tests, a self-signed one no
// client trusts, and an expired one.

#include <string>

#include "support/test_server.hpp"

namespace iotxmpp::test {

class test_pki {
 public:
  test_pki();  // throws std::runtime_error when openssl fails

  const std::string& dir() const { return dir_.path(); }
  std::string ca_cert() const { return dir() + "/ca.pem"; }
  std::string server_cert() const { return dir() + "/server.pem"; }  // leaf + CA chain
  std::string server_key() const { return dir() + "/server.key"; }
  std::string other_cert() const { return dir() + "/other.pem"; }  // a second leaf, same CA
  std::string other_key() const { return dir() + "/other.key"; }
  std::string self_signed_cert() const { return dir() + "/self.pem"; }
  std::string self_signed_key() const { return dir() + "/self.key"; }
  std::string expired_cert() const { return dir() + "/expired.pem"; }
  std::string expired_key() const { return dir() + "/expired.key"; }

 private:
  temp_dir dir_;
};

}  // namespace iotxmpp::test
