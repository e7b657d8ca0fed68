#pragma once
// The documented exit codes of every iotxmpp subcommand, and the one place
// that turns a core error into a message on stderr and one of them.
// man/iotxmpp.1 lists the same table; keep them in step.

#include "core/base/error.hpp"

namespace iotxmpp::cli {

enum exit_code : int {
  exit_ok = 0,
  exit_failure = 1,    // the work ran but failed (e.g. devices failed in simulate)
  exit_usage = 2,      // bad flag, argument, or input file
  exit_connect = 3,    // cannot connect to the server or the database, or a refused login
  exit_timeout = 4,    // no answer in time
  exit_remote = 5,     // the server answered with an error
  exit_database = 6,   // the database refused or failed a statement
  exit_io = 7,         // local I/O failure (file, disk full, address in use)
  exit_protocol = 8,   // the peer broke the protocol
  exit_internal = 70,  // a bug in iotxmpp
};

// The exit code for an error of this kind.
int exit_code_for(error_kind kind);

// Prints "iotxmpp: <message>" (plus the condition, when there is one) as one
// line on stderr and returns exit_code_for(e.kind).
int report(const error& e);

}  // namespace iotxmpp::cli
