#pragma once
// The log as a test sees it: this process's stderr, where the log goes,
// redirected to a file while a log_capture lives, read back as it grows.

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>

#include "core/base/log.hpp"

namespace iotxmpp::test {

// This process's stderr (where the log goes) in a file while it lives; the
// file is read back as it grows. The test server sets the level when it
// starts: show() after that.
class log_capture {
 public:
  log_capture() {
    char path[] = "/tmp/iotxmpp_test_log_XXXXXX";
    const int fd = mkstemp(path);
    if (fd < 0) throw std::runtime_error("mkstemp failed");
    path_ = path;
    saved_ = dup(2);
    dup2(fd, 2);
    close(fd);
  }
  void show(log::level level) { log::set_level(level); }
  ~log_capture() {
    log::set_level(log::level::warn);
    dup2(saved_, 2);
    close(saved_);
    unlink(path_.c_str());
  }
  std::string text() const {
    std::ifstream in(path_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  // Waits for a line holding every one of `parts`; that line, or "".
  std::string wait_for(std::initializer_list<std::string_view> parts,
                       std::chrono::milliseconds timeout = std::chrono::seconds(5)) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      std::istringstream lines(text());
      for (std::string line; std::getline(lines, line);) {
        bool all = true;
        for (auto p : parts) all = all && line.find(p) != std::string::npos;
        if (all) return line;
      }
      if (std::chrono::steady_clock::now() > deadline) return {};
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  // Lines at warning level or above.
  std::string warnings() const {
    std::istringstream lines(text());
    std::string out;
    for (std::string line; std::getline(lines, line);)
      if (line.find(" warn ") != std::string::npos || line.find(" error ") != std::string::npos)
        out += line + "\n";
    return out;
  }

  // How many lines hold `part`.
  std::size_t count(std::string_view part) const {
    std::istringstream lines(text());
    std::size_t n = 0;
    for (std::string line; std::getline(lines, line);) n += line.find(part) != std::string::npos;
    return n;
  }

 private:
  std::string path_;
  int saved_ = -1;
};

}  // namespace iotxmpp::test
