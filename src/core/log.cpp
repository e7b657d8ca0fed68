#include "core/log.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <format>

#include <nlohmann/json.hpp>

namespace iotxmpp::log {
namespace {

std::atomic<level> current_level{level::info};
std::atomic<format> current_format{format::text};

constexpr std::string_view names[] = {"debug", "info", "warn", "error", "off"};

std::string_view name_of(level l) { return names[static_cast<int>(l)]; }

// Quotes a text value only when it needs it, so plain values stay greppable.
void append_text_value(std::string& out, std::string_view v) {
  bool plain = !v.empty() && v.find_first_of(" \"=\t\n") == std::string_view::npos;
  if (plain) {
    out += v;
    return;
  }
  out += nlohmann::json(std::string(v)).dump(-1, ' ', false,
                                            nlohmann::json::error_handler_t::replace);
}

}  // namespace

void set_level(level l) { current_level = l; }
void set_format(format f) { current_format = f; }
bool enabled(level l) { return l >= current_level.load(std::memory_order_relaxed) && l != level::off; }

std::optional<level> parse_level(std::string_view name) {
  for (int i = 0; i < 5; ++i)
    if (names[i] == name) return static_cast<level>(i);
  return std::nullopt;
}

void write(level l, std::string_view message, std::initializer_list<field> fields) {
  auto now = std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
  std::string line;
  if (current_format == format::json) {
    nlohmann::ordered_json j;
    j["ts"] = std::format("{:%FT%TZ}", now);
    j["level"] = name_of(l);
    j["msg"] = message;
    for (const auto& [k, v] : fields) j[std::string(k)] = v;
    line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    line = std::format("{:%FT%TZ} {:5} {}", now, name_of(l), message);
    for (const auto& [k, v] : fields) {
      line += ' ';
      line += k;
      line += '=';
      append_text_value(line, v);
    }
  }
  line += '\n';
  // One write per line: atomic for pipes up to PIPE_BUF, and never
  // interleaved mid-line by stdio buffering across threads.
  [[maybe_unused]] auto n = ::write(2, line.data(), line.size());
}

}  // namespace iotxmpp::log
