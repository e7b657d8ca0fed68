#include "support/scratch_db.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/store/mysql_store.hpp"

namespace iotxmpp::test {
namespace {

std::atomic<int> next_serial{0};

}  // namespace

std::string engine_name(engine e) { return e == engine::sqlite ? "sqlite" : "mysql"; }

std::string mariadb_url(std::string& why, bool& misconfigured) {
  misconfigured = false;
  const char* dir = std::getenv("IOTXMPP_TEST_MARIADB_DIR");
  if (!dir || !*dir) {
    why =
        "IOTXMPP_TEST_MARIADB_DIR is not set: run under ctest, or start one with "
        "scripts/test-mariadb start DIR and export IOTXMPP_TEST_MARIADB_DIR=DIR";
    return {};
  }
  if (std::string_view(dir) == "-") {
    // ctest runs this test without the MariaDB fixture (tests/CMakeLists.txt).
    misconfigured = true;
    why =
        "this test uses MariaDB but tests/CMakeLists.txt does not list it in "
        "IOTXMPP_MARIADB_TESTS, so ctest runs it without the MariaDB fixture: add it there";
    return {};
  }
  std::ifstream in(std::string(dir) + "/url");
  std::string url;
  if (!in || !std::getline(in, url) || url.empty()) {
    misconfigured = true;
    why = std::string("no MariaDB URL in ") + dir + "/url (did the mariadb_start fixture fail?)";
    return {};
  }
  return url;
}

unsigned short closed_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

std::string with_database(std::string_view base, std::string_view database) {
  std::string out(base.substr(0, base.rfind('/') + 1));
  out += database;
  return out;
}

scratch_db::scratch_db(engine e, std::string_view tag) : engine_(e) {
  if (e == engine::sqlite) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "iotxmpp_store_XXXXXX").string();
    if (!mkdtemp(tmpl.data())) {
      setup_error_ = "mkdtemp failed";
      return;
    }
    dir_ = tmpl;
    url_ = "sqlite:" + dir_ + "/" + std::string(tag) + ".db";
    return;
  }
  bool misconfigured = false;
  std::string base = mariadb_url(skip_, misconfigured);
  if (misconfigured) {
    setup_error_ = skip_;
    skip_.clear();
    return;
  }
  if (base.empty()) return;
  make_mysql(base, tag);
}

scratch_db::scratch_db(std::string_view base_url, std::string_view tag) : engine_(engine::mysql) {
  make_mysql(base_url, tag);
}

void scratch_db::make_mysql(std::string_view base_url, std::string_view tag) {
  std::string name = "iotxmpp_t_" + std::string(tag) + "_" + std::to_string(getpid()) + "_" +
                     std::to_string(next_serial++);
  url_ = with_database(base_url, name.substr(0, 64));
  auto parsed = store_url::parse(url_);
  if (!parsed) {
    setup_error_ = parsed.error().message;
    return;
  }
  (void)mysql_drop_database(*parsed);  // a leftover of an earlier run with this pid
  auto created = create_database_if_missing(*parsed);
  if (!created) setup_error_ = created.error().message;
}

scratch_db::~scratch_db() {
  if (engine_ == engine::sqlite) {
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
    return;
  }
  if (url_.empty()) return;
  if (auto parsed = store_url::parse(url_)) (void)mysql_drop_database(*parsed);
}

}  // namespace iotxmpp::test
