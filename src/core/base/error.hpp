#pragma once
// The error type every fallible core call returns, through result<T>.
// Core does not throw for expected failures; library exceptions are caught at
// the boundary that owns the library and turned into an `error`.

#include <expected>
#include <optional>
#include <string>
#include <utility>

namespace iotxmpp {

// What kind of failure this is. The command line maps each kind to one
// documented exit code (src/cli/exit_codes.hpp); keep the two in step.
enum class error_kind {
  usage,     // bad flag, bad argument, bad input file given by the user
  connect,   // cannot reach a server or a database
  timeout,   // an operation did not finish in time
  remote,    // the peer answered with an error (stanza or stream error)
  protocol,  // the peer broke the protocol (malformed XML, bad stanza)
  database,  // a database refused or failed a statement
  io,        // local I/O failure (file, disk full, socket setup)
  internal,  // a bug: an invariant did not hold
};

struct error {
  error_kind kind = error_kind::internal;
  std::string message;      // one line, for a human; never holds a password
  std::string condition{};  // RFC 6120 condition where there is one
  // What the error is about, when it is one item of many: the store writer
  // puts a refused status report's stanza id here ("" for an id-less one;
  // store_writer.hpp).
  std::optional<std::string> subject{};
};

template <class T>
using result = std::expected<T, error>;

inline std::unexpected<error> fail(error_kind kind, std::string message,
                                   std::string condition = {}) {
  return std::unexpected(error{kind, std::move(message), std::move(condition)});
}

}  // namespace iotxmpp
