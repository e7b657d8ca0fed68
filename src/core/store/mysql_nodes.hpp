#pragma once
// Several nodes over one MySQL / MariaDB database (or a Galera cluster): the
// feed numbers and events written inside apply()'s transaction, and the
// heartbeat, feed and online-set reads of the store interface (store.hpp
// states the contract), on mysql_store's connection. Internal to the store
// layer (it includes Connector/C++, through mysql_statements.hpp).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/store/mysql_statements.hpp"
#include "core/store/store.hpp"
#include "core/store/store_rows.hpp"

namespace iotxmpp {

class mysql_nodes {
 public:
  // `conn` must outlive this object; `url` names the database in messages.
  mysql_nodes(sql::Connection& conn, store_url url);
  ~mysql_nodes();

  // Inside the caller's open transaction: takes `count` numbers of the
  // node's feed (its node_sequences row, which the transaction then holds
  // locked) and returns the first. One statement when the last number this
  // connection committed is still the row's, two otherwise. Throws
  // sql::SQLException. Tell how the transaction ended: committed() or
  // abandoned().
  std::int64_t reserve(std::string_view node, std::size_t count);
  void committed() {
    if (pending_) known_ = std::move(pending_);
    pending_.reset();
  }
  void abandoned() {
    known_.reset();
    pending_.reset();
  }
  // Inside the caller's open transaction, after the device rows: the
  // feed_events rows of the batch's binds and presences. Throws.
  void write_events(const write_batch& batch, const feed_numbers& numbers);

  result<void> heartbeat(std::string_view node, sys_micros started_at, sys_micros now);
  result<std::vector<node_row>> nodes();
  result<std::vector<feed_head>> heads();
  result<std::vector<feed_record>> after(std::string_view node, std::int64_t seq, std::size_t limit,
                                         bool reports);
  result<std::size_t> prune(sys_micros before, std::size_t limit);
  result<std::vector<device_row>> online_elsewhere(std::string_view node, sys_micros live_since);
  result<std::size_t> offline_dead_nodes(sys_micros dead_before);

  // Drops the cached statements (a migration may change their tables).
  void forget_statements();

  enum class sql_id : int;

 private:
  template <class T, class Body>
  result<T> guarded(std::string_view doing, Body&& body);

  store_url url_;
  // The node and last number of this connection's last committed
  // reservation, and of the one in the open transaction.
  struct last_number {
    std::string node;
    std::int64_t seq = 0;
  };
  std::optional<last_number> known_, pending_;
  mysql_statements<sql_id> stmts_;
};

}  // namespace iotxmpp
