#include "support/private_mariadb.hpp"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "support/process.hpp"

namespace iotxmpp::test {
namespace {
const std::string script = IOTXMPP_SOURCE_DIR "/scripts/test-mariadb";
}

private_mariadb::private_mariadb() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "iotxmpp_private_XXXXXX").string();
  if (mkdtemp(tmpl.data())) dir_ = tmpl;
}

private_mariadb::~private_mariadb() {
  if (dir_.empty()) return;
  run_process({script, "stop", dir_});
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string private_mariadb::run(const std::string& what) {
  if (dir_.empty()) return "mkdtemp failed";
  auto r = run_process({script, what, dir_}, {}, std::chrono::seconds(60));
  return r.exit_code == 0 ? std::string() : what + " failed: " + r.err;
}

std::string private_mariadb::url() const {
  std::ifstream in(dir_ + "/url");
  std::string u;
  std::getline(in, u);
  return u;
}

}  // namespace iotxmpp::test
