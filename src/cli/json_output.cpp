#include "cli/json_output.hpp"

#include <cstdio>

namespace iotxmpp::cli {

std::string json_text(const json_value& j) {
  return j.dump(-1, ' ', false, json_value::error_handler_t::replace);
}

void print_json(const json_value& j) {
  std::string line = json_text(j);
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stdout);
}

}  // namespace iotxmpp::cli
