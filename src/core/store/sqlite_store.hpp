#pragma once
// The embedded SQLite store (the default: sqlite:iotxmpp.db). WAL journal
// with synchronous=FULL, so a committed transaction survives a crash or a
// power cut; a busy timeout lets a server and `iotxmpp reap` (or two
// servers) share one file.

#include <memory>
#include <span>

#include "core/store/store.hpp"

namespace iotxmpp {

// Opens (creating the file if needed) the SQLite database at url.path,
// without migrating. error_kind::io when the file cannot be opened or is not
// a database.
result<std::unique_ptr<store>> open_sqlite_store(const store_url& url);

// The PRAGMAs every connection runs when it opens (journal, durability,
// cache), so that a baseline outside the store can match them.
std::span<const char* const> sqlite_pragmas();

}  // namespace iotxmpp
