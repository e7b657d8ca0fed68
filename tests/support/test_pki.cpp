#include "support/test_pki.hpp"

#include <fstream>
#include <stdexcept>
#include <vector>

#include "support/process.hpp"

namespace iotxmpp::test {
namespace {

void openssl(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"openssl"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = run_process(argv);
  if (r.exit_code != 0) throw std::runtime_error("openssl " + args.front() + " failed: " + r.err);
}

void write_file(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A leaf key and certificate for the test names, signed by the CA.
void make_leaf(const std::string& dir, const std::string& name, const std::string& cn,
               const std::string& days) {
  const std::string key = dir + "/" + name + ".key";
  const std::string csr = dir + "/" + name + ".csr";
  const std::string crt = dir + "/" + name + ".crt";
  openssl({"req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
           "-keyout", key, "-out", csr, "-subj", "/CN=" + cn});
  openssl({"x509", "-req", "-in", csr, "-CA", dir + "/ca.pem", "-CAkey", dir + "/ca.key",
           "-CAcreateserial", "-out", crt, "-days", days, "-extfile", dir + "/leaf.ext"});
  write_file(dir + "/" + name + ".pem", read_file(crt) + read_file(dir + "/ca.pem"));
}

}  // namespace

test_pki::test_pki() {
  const std::string d = dir();
  write_file(d + "/leaf.ext",
             "subjectAltName=DNS:iot.local,DNS:localhost,IP:127.0.0.1,IP:::1\n"
             "extendedKeyUsage=serverAuth\n");
  openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
           "-keyout", d + "/ca.key", "-out", d + "/ca.pem", "-days", "2", "-subj",
           "/CN=iotxmpp test CA"});
  make_leaf(d, "server", "iot.local", "2");
  make_leaf(d, "other", "iot.local", "2");
  // Expired: `-days -1` puts notAfter a day before notBefore (now).
  make_leaf(d, "expired", "iot.local", "-1");
  openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
           "-keyout", d + "/self.key", "-out", d + "/self.pem", "-days", "2", "-subj",
           "/CN=iot.local", "-addext", "subjectAltName=DNS:iot.local,IP:127.0.0.1"});
}

}  // namespace iotxmpp::test
