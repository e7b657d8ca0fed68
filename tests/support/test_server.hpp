#pragma once
// A real `serve` core started in-process on 127.0.0.1:0 with its own SQLite
// file in a fresh temporary directory, stopped (gracefully) on destruction.

#include <functional>
#include <memory>
#include <string>

#include "core/server/server.hpp"

namespace iotxmpp::test {

// A fresh empty directory under $TMPDIR, removed by the destructor.
class temp_dir {
 public:
  temp_dir();
  ~temp_dir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class test_server {
 public:
  // `tweak` may adjust the options before start (limits, timeouts, store).
  explicit test_server(const std::function<void(server_options&)>& tweak = {});
  ~test_server();

  unsigned short port(std::size_t listener = 0) const;
  const std::string& store_url() const { return store_url_; }
  server& get() { return *server_; }
  // Graceful stop and wait (idempotent).
  void stop();

 private:
  temp_dir dir_;
  std::string store_url_;
  std::unique_ptr<server> server_;
  bool stopped_ = false;
};

}  // namespace iotxmpp::test
