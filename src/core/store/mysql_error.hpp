#pragma once
// What a MySQL / MariaDB failure means: the client library's error number
// and text turned into an error of the right kind (store.hpp lists them)
// with a short reason a person can act on ("connection refused", "access
// denied", "unknown database", "deadlock", ...). No Connector/C++ types here.

#include <string_view>

#include "core/base/error.hpp"
#include "core/store/store.hpp"

namespace iotxmpp {

// The error for library error `code` with its text `library_text`, raised
// while `doing` (e.g. "cannot connect to") on `url`. The message names the
// redacted URL, never the password (scrubbed from the text too). A failed
// TCP connect is probed once more to say why (refused, timed out, ...).
error mysql_error(const store_url& url, int code, std::string_view library_text,
                  std::string_view doing);

}  // namespace iotxmpp
