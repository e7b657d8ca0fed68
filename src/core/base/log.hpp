#pragma once
// Process-wide logging to stderr: one line per event, as text or JSON lines,
// filtered by level. Thread-safe; each line is written with one write(2) so
// lines from different threads never interleave. Never pass a password or a
// whole payload as a field.

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace iotxmpp::log {

enum class level { debug, info, warn, error, off };
enum class format { text, json };

// A key and its value, shown as key=value (text) or "key":"value" (JSON).
using field = std::pair<std::string_view, std::string>;

void set_level(level l);
void set_format(format f);
bool enabled(level l);

// "debug", "info", "warn", "error", "off" -> level.
std::optional<level> parse_level(std::string_view name);

void write(level l, std::string_view message, std::initializer_list<field> fields = {});

inline void debug(std::string_view m, std::initializer_list<field> f = {}) {
  if (enabled(level::debug)) write(level::debug, m, f);
}
inline void info(std::string_view m, std::initializer_list<field> f = {}) {
  if (enabled(level::info)) write(level::info, m, f);
}
inline void warn(std::string_view m, std::initializer_list<field> f = {}) {
  if (enabled(level::warn)) write(level::warn, m, f);
}
inline void error(std::string_view m, std::initializer_list<field> f = {}) {
  if (enabled(level::error)) write(level::error, m, f);
}

}  // namespace iotxmpp::log
