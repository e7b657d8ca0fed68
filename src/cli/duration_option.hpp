#pragma once
// Every duration flag of every subcommand (--timeout, --stale-after,
// --interval, ...) is declared here, so that all of them read the same text
// (core/base/duration.hpp: "250ms", "30s", "5m", "1h30m", bare seconds), follow
// the same zero rule and fail with the same message naming the flag.
//
// The zero rule: a duration flag refuses 0 unless its help says what 0 means
// (simulate's --interval 0: as fast as stored; --query-every 0: never;
// --jitter 0: none; --duration 0: until stopped; reap's --stale-after 0:
// every device, which `reap --dry-run` uses to list them all). Every other
// flag is a timeout, a period or a window (serve's --stale-after too: 0 would
// reap every device the moment it reports), so it must be more than 0.

#include <chrono>
#include <string>

namespace CLI {
class App;
class Option;
class Validator;
}  // namespace CLI

namespace iotxmpp::cli {

enum class zero_duration {
  refused,  // 0 is a usage error: "must be more than 0"
  allowed,  // 0 is accepted; the flag's help says what it means
};

// What is wrong with `text` as a duration flag's value under `zero`, or ""
// when nothing is: parse_duration's message ("bad duration '5x': unknown unit
// 'x' ...") or "must be more than 0 (e.g. 30s, 5m, 250ms)".
std::string duration_problem(const std::string& text, zero_duration zero);

// The CLI11 check of a duration flag's text: empty (meaning it passed), or
// what is wrong, which CLI11 prefixes with the flag's name and main() turns
// into a usage error (exit 2), e.g. "--stale-after: bad duration '5x':
// unknown unit 'x' ..." or "--timeout: must be more than 0 (e.g. 5s, 250ms)".
// It checks the command line, the environment variable and the config file
// alike. It does not change the text.
CLI::Validator duration_check(zero_duration zero);

// Declares `--name DURATION` on `sub`, filling `text` (whose initial value is
// shown as the default unless it is empty), with duration_check(zero).
CLI::Option* add_duration_option(CLI::App& sub, const std::string& name, std::string& text,
                                 const std::string& help, zero_duration zero);

// The value of a duration flag after parsing: `text` passed duration_check
// (or is a built-in default that would), so it always parses. 0 for an empty
// text.
std::chrono::microseconds duration_value(const std::string& text);

}  // namespace iotxmpp::cli
