#pragma once
// The database schema as an ordered list of migrations, one list per SQL
// dialect, with the same meaning on both. A database records each applied
// migration in schema_version; a store applies the missing ones in order.

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace iotxmpp {

enum class sql_dialect { sqlite, mysql };

struct migration {
  int version;                               // 1, 2, ... in order, no gaps
  std::string_view name;                     // "initial schema"
  std::vector<std::string_view> statements;  // run in order
};

// The version every store migrates to by default.
inline constexpr int latest_schema_version = 5;

// Every migration of the dialect, in version order.
std::span<const migration> migrations(sql_dialect dialect);

// The migrations that take a database from version `from` to `to` (empty
// when from >= to), in order.
std::vector<const migration*> pending_migrations(sql_dialect dialect, int from, int to);

// "v2: recommendation targets, reaping index", as migration_report lists it.
std::string migration_label(const migration& m);

}  // namespace iotxmpp
