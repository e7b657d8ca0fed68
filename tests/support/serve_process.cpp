#include "support/serve_process.hpp"

#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "support/eventually.hpp"
#include "support/raw_client.hpp"

namespace iotxmpp::test {

std::vector<std::string> serve_args(const std::string& db, unsigned short port,
                                    const std::vector<std::string>& extra) {
  std::vector<std::string> args{"serve",
                                "--db",
                                db,
                                "--listen",
                                "127.0.0.1:" + std::to_string(port),
                                "--max-stanza-rate",
                                "0",
                                "--max-byte-rate",
                                "0"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

bool listening(unsigned short port, std::chrono::milliseconds limit) {
  return eventually(
      [port] {
        try {
          raw_client probe("127.0.0.1", port);
          return true;
        } catch (const std::exception&) {
          return false;
        }
      },
      limit, std::chrono::milliseconds(20));
}

std::vector<std::size_t> unread_by_server(unsigned short port) {
  std::vector<std::size_t> out;
  std::ifstream in("/proc/net/tcp");
  std::string line;
  std::getline(in, line);  // the header
  char wanted[16];
  std::snprintf(wanted, sizeof wanted, "0100007F:%04X", port);
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state, queues;
    fields >> slot >> local >> remote >> state >> queues;
    if (local != wanted || state != "01") continue;  // 01: established
    auto colon = queues.find(':');
    if (colon == std::string::npos) continue;
    out.push_back(std::stoul(queues.substr(colon + 1), nullptr, 16));
  }
  return out;
}

std::size_t threads_named(int pid, const std::string& prefix) {
  std::size_t n = 0;
  std::error_code ec;
  for (const auto& task :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::ifstream comm(task.path() / "comm");
    std::string name;
    if (std::getline(comm, name) && name.rfind(prefix, 0) == 0) ++n;
  }
  return n;
}

}  // namespace iotxmpp::test
