#pragma once
// Several nodes over one SQLite file: the feed numbers and events written
// inside apply()'s transaction, and the heartbeat, feed and online-set
// reads of the store interface (store.hpp states the contract), on
// sqlite_store's connection. Internal to the store layer.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/store/sqlite_statement.hpp"
#include "core/store/store.hpp"
#include "core/store/store_rows.hpp"

namespace iotxmpp {

class sqlite_nodes {
 public:
  // `db` must outlive this object; `where` (the redacted URL) leads messages.
  sqlite_nodes(sqlite3* db, std::string where);

  // Inside the caller's write transaction: takes `count` numbers of the
  // node's feed (its node_sequences row, which the transaction then holds)
  // and returns the first.
  result<std::int64_t> reserve(std::string_view node, std::size_t count);
  // Inside the caller's transaction, after the device rows are written: the
  // feed_events rows of the batch's binds and presences.
  result<void> write_events(const write_batch& batch, const feed_numbers& numbers);

  result<void> heartbeat(std::string_view node, sys_micros started_at, sys_micros now);
  result<std::vector<node_row>> nodes();
  result<std::vector<feed_head>> heads();
  result<std::vector<feed_record>> after(std::string_view node, std::int64_t seq, std::size_t limit,
                                         bool reports);
  result<std::size_t> prune(sys_micros before, std::size_t limit);
  result<std::vector<device_row>> online_elsewhere(std::string_view node, sys_micros live_since);
  result<std::size_t> offline_dead_nodes(sys_micros dead_before);

  // Finalizes the cached statements (a migration may change their tables).
  void forget_statements() { stmts_.clear(); }

  enum class sql : int;

 private:
  sqlite_statements<sql> stmts_;
};

}  // namespace iotxmpp
