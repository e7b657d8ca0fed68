#pragma once
// Runs a child process for end-to-end tests: argv in, exit code and captured
// stdout/stderr out, with a timeout after which the child is killed.

#include <chrono>
#include <string>
#include <vector>

namespace iotxmpp::test {

struct process_result {
  int exit_code = -1;      // the exit status, or 128+signal when killed
  bool timed_out = false;  // killed because it ran past the timeout
  std::string out;
  std::string err;
};

// Runs argv[0] (searched in PATH) with the given arguments, feeding `input`
// to its stdin, and waits for it at most `timeout`.
process_result run_process(const std::vector<std::string>& argv, const std::string& input = {},
                           std::chrono::milliseconds timeout = std::chrono::seconds(30),
                           const std::vector<std::string>& extra_env = {});

// run_process with the iotxmpp binary under test as argv[0].
process_result run_iotxmpp(std::vector<std::string> args, const std::string& input = {},
                           std::chrono::milliseconds timeout = std::chrono::seconds(30),
                           const std::vector<std::string>& extra_env = {});

}  // namespace iotxmpp::test
