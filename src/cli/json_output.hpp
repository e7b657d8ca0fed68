#pragma once
// The one --json printer: every subcommand that prints JSON (db-init, query,
// reap, send, simulate, tail) prints it through here, so all of them print
// the same form: one object or array per line, compact (no spaces), keys in
// the order the command wrote them.
//
// Strings come from the network and the database and may hold bytes that are
// not UTF-8, which nlohmann::json refuses to dump (type_error 316). Here each
// invalid byte becomes U+FFFD instead: the output is always valid UTF-8 JSON
// and printing never throws.

#include <string>

#include <nlohmann/json.hpp>

namespace iotxmpp::cli {

using json_value = nlohmann::ordered_json;

// `j` as compact JSON text, invalid UTF-8 in strings and keys replaced by
// U+FFFD. Never throws.
std::string json_text(const json_value& j);

// Writes json_text(j) and a newline to stdout.
void print_json(const json_value& j);

}  // namespace iotxmpp::cli
