#pragma once
// A child process that runs alongside the test (unlike run_process, which
// waits for the end): read its stdout line by line as it prints, signal it,
// then collect its exit code and the rest of its output.

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace iotxmpp::test {

class child_process {
 public:
  // Starts the iotxmpp binary under test with `args`; stdin is /dev/null.
  explicit child_process(std::vector<std::string> args);
  // Kills the child if it still runs.
  ~child_process();
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  // The next complete stdout line (without '\n'), or nullopt when none came
  // within `timeout` or stdout ended.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout);
  // Reads the child's output until its stderr holds `needle` (true) or
  // `timeout` passed or both outputs ended (false). Keeps stdout for
  // read_line.
  bool wait_for_err(std::string_view needle, std::chrono::milliseconds timeout);
  // Sends `signal` (SIGINT, SIGTERM...).
  void signal(int signal);
  // Waits for the exit; the exit code (128+signal when killed by one), or
  // nullopt on timeout. Collects the remaining output.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  // True once the child has exited (non-blocking check).
  bool exited();

  pid_t pid() const { return pid_; }
  const std::string& err() const { return err_; }
  // Stdout not yet returned by read_line.
  const std::string& rest() const { return out_; }

 private:
  void pump(std::chrono::milliseconds timeout);

  pid_t pid_ = -1;
  int out_fd_ = -1, err_fd_ = -1;
  std::string out_, err_;
  std::optional<int> code_;
};

}  // namespace iotxmpp::test
