#pragma once
// Fresh, empty databases for store tests: a temporary SQLite file, or a
// uniquely named database on the private MariaDB that ctest starts (its URL
// is in $IOTXMPP_TEST_MARIADB_DIR/url). Each is removed again on destruction.

#include <ostream>
#include <string>
#include <string_view>

#include "core/store/store.hpp"

namespace iotxmpp::test {

enum class engine { sqlite, mysql };

// "sqlite" / "mysql", for parameterised test names.
std::string engine_name(engine e);
// So that GoogleTest prints the engine by name.
inline void PrintTo(engine e, std::ostream* os) { *os << engine_name(e); }

// The shared test MariaDB's URL, or an empty string with `why` filled when
// the environment does not name one (a binary run by hand). When the
// environment names a directory without a URL file, `why` says so too and
// the caller should fail rather than skip: under ctest MariaDB must run. The
// directory "-" marks a test ctest runs without the MariaDB fixture (one not
// listed in tests/CMakeLists.txt's IOTXMPP_MARIADB_TESTS): misconfigured too.
std::string mariadb_url(std::string& why, bool& misconfigured);

// A TCP port on 127.0.0.1 with no listener (bound once, then released).
unsigned short closed_port();

// A URL like `base` with the database replaced by `database`.
std::string with_database(std::string_view base, std::string_view database);

class scratch_db {
 public:
  // Creates an empty database for one test. `tag` (letters, digits, '_')
  // goes into the name so leftovers can be traced to a suite. On MariaDB
  // without a configured server, skip_reason() is set and url() is empty.
  scratch_db(engine e, std::string_view tag);
  // For MariaDB: a database on the server at `base_url` (e.g. a private one).
  scratch_db(std::string_view base_url, std::string_view tag);
  ~scratch_db();
  scratch_db(const scratch_db&) = delete;
  scratch_db& operator=(const scratch_db&) = delete;

  const std::string& url() const { return url_; }
  const std::string& skip_reason() const { return skip_; }
  // Set when the database could not be created (a failure, not a skip).
  const std::string& setup_error() const { return setup_error_; }
  engine kind() const { return engine_; }

 private:
  void make_mysql(std::string_view base_url, std::string_view tag);

  engine engine_;
  std::string url_;
  std::string dir_;  // sqlite: the temporary directory holding the file
  std::string skip_;
  std::string setup_error_;
};

}  // namespace iotxmpp::test
