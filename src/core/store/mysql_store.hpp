#pragma once
// The MySQL / MariaDB store, through MySQL Connector/C++ (the classic sql::
// API). Connector/C++ headers and exceptions stay inside mysql_store.cpp.

#include <memory>

#include "core/store/store.hpp"

namespace sql {
class Connection;
}

namespace iotxmpp {

// Connects to url (utf8mb4, strict SQL mode, READ COMMITTED) without
// migrating. error_kind::connect saying why: "connection refused",
// "access denied", "unknown host", "unknown database", ...
result<std::unique_ptr<store>> open_mysql_store(const store_url& url);

// Creates url.database if it does not exist; true when it created it.
result<bool> mysql_create_database(const store_url& url);

// Drops url.database if it exists (tests clean up with it).
result<void> mysql_drop_database(const store_url& url);

// A plain Connector/C++ connection to url.database with the store's session
// settings (utf8mb4, strict SQL mode, READ COMMITTED), for the benchmarks'
// raw clients. Throws sql::SQLException; the caller includes Connector/C++.
std::unique_ptr<sql::Connection> mysql_raw_connection(const store_url& url);

}  // namespace iotxmpp
