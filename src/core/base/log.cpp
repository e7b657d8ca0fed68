#include "core/base/log.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>

#include <nlohmann/json.hpp>

#include "core/base/clock.hpp"

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
  out +=
      nlohmann::json(std::string(v)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// RFC 3339 UTC timestamp with milliseconds: 2026-11-24T08:00:00.123Z.
std::string timestamp() {
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock::wall_now().time_since_epoch())
          .count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

}  // namespace

void set_level(level l) { current_level = l; }
void set_format(format f) { current_format = f; }
bool enabled(level l) {
  return l >= current_level.load(std::memory_order_relaxed) && l != level::off;
}

std::optional<level> parse_level(std::string_view name) {
  for (int i = 0; i < 5; ++i)
    if (names[i] == name) return static_cast<level>(i);
  return std::nullopt;
}

void write(level l, std::string_view message, std::initializer_list<field> fields) {
  std::string ts = timestamp();
  std::string line;
  if (current_format == format::json) {
    nlohmann::ordered_json j;
    j["ts"] = ts;
    j["level"] = name_of(l);
    j["msg"] = message;
    for (const auto& [k, v] : fields) j[std::string(k)] = v;
    line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    line = ts;
    line += ' ';
    line += name_of(l);
    line += ' ';
    line += message;
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
