#include "cli/exit_codes.hpp"

#include <cstdio>

namespace iotxmpp::cli {

int exit_code_for(error_kind kind) {
  switch (kind) {
    case error_kind::usage: return exit_usage;
    case error_kind::connect: return exit_connect;
    case error_kind::timeout: return exit_timeout;
    case error_kind::remote: return exit_remote;
    case error_kind::protocol: return exit_protocol;
    case error_kind::database: return exit_database;
    case error_kind::io: return exit_io;
    case error_kind::internal: return exit_internal;
  }
  return exit_internal;
}

int report(const error& e) {
  if (e.condition.empty() || e.message.find(e.condition) != std::string::npos)
    std::fprintf(stderr, "iotxmpp: %s\n", e.message.c_str());
  else
    std::fprintf(stderr, "iotxmpp: %s (%s)\n", e.message.c_str(), e.condition.c_str());
  return exit_code_for(e.kind);
}

}  // namespace iotxmpp::cli
