#pragma once
// A MariaDB server of one test's own (scripts/test-mariadb in a temporary
// directory), for tests that stop or kill the database: the shared one
// serves parallel tests. Stopped and removed by the destructor.

#include <string>

namespace iotxmpp::test {

class private_mariadb {
 public:
  private_mariadb();
  ~private_mariadb();
  private_mariadb(const private_mariadb&) = delete;
  private_mariadb& operator=(const private_mariadb&) = delete;

  // Runs `scripts/test-mariadb <what> DIR` (start, stop, kill, restart);
  // empty on success, else what failed and its stderr.
  std::string run(const std::string& what);
  // The server's base URL (mysql://root@127.0.0.1:PORT/...), once started.
  std::string url() const;

 private:
  std::string dir_;
};

}  // namespace iotxmpp::test
