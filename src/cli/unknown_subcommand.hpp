#pragma once
// A mistyped subcommand, named, with the closest real one as git and cargo
// suggest it: `iotxmpp serv` -> "unknown subcommand 'serv'; did you mean
// 'serve'?". Works at every level that has subcommands (iotxmpp, query,
// device, send).

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace CLI {
class App;
}

namespace iotxmpp::cli {

// Optimal-string-alignment distance: insertions, deletions, substitutions
// and swaps of two neighbouring characters each count 1 ("qeury" is 1 from
// "query"). Counts bytes.
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate nearest to `typed` when it is close enough to be a typo:
// at most 2 edits and fewer than half of `typed`'s length ("serv" -> "serve",
// "recomend" -> "recommend"; "foo" -> none). The first in `candidates` order
// wins a tie. Empty when none is close.
std::optional<std::string> closest(std::string_view typed, std::span<const std::string> candidates);

// After a parse error of `root`: when the deepest subcommand chosen (or
// root itself) needs a subcommand and none was given, the usage message for
// it, without the "iotxmpp: " prefix: "unknown subcommand 'query recomend';
// did you mean 'query recommend'? (see 'iotxmpp query --help')" when a word
// was given in its place, else "'iotxmpp query' needs a subcommand: recommend,
// ping, ...". Empty when the error is something else.
std::optional<std::string> subcommand_usage_error(const CLI::App& root);

}  // namespace iotxmpp::cli
