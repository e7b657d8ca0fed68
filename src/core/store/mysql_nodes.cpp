#include "core/store/mysql_nodes.hpp"

#include "core/store/mysql_statements.hpp"

namespace iotxmpp {

enum class mysql_nodes::sql_id : int {
  reserve,
  reserve_known,
  reserved,
  bind_event,
  presence_event,
  heartbeat,
  nodes,
  heads,
  after,
  events_after,
  prune,
  online_elsewhere,
  offline_dead,
};

namespace {

using sql_id = mysql_nodes::sql_id;

std::string sql_text(sql_id id, std::size_t limit) {
  const std::string n = std::to_string(limit);
  switch (id) {
    case sql_id::reserve:
      return "INSERT INTO node_sequences (node_id, last_seq) VALUES (?, ?)"
             " ON DUPLICATE KEY UPDATE last_seq = last_seq + VALUES(last_seq)";
    case sql_id::reserve_known:
      // Matches only while the row holds what we last committed.
      return "UPDATE node_sequences SET last_seq = ? WHERE node_id = ? AND last_seq = ?";
    case sql_id::reserved:
      // Our own uncommitted update: the row is locked until we commit.
      return "SELECT last_seq FROM node_sequences WHERE node_id = ?";
    case sql_id::bind_event:
      return "INSERT INTO feed_events (node_id, node_seq, kind, jid, room, at, online,"
             " presence_show, presence_status) VALUES (?, ?, 'bind', ?, ?, ?, TRUE, '', '')";
    case sql_id::presence_event:
      // The device's room as its row has it now: the touches that moved it
      // were written before, in this transaction.
      return "INSERT INTO feed_events (node_id, node_seq, kind, jid, room, at, online,"
             " presence_show, presence_status)"
             " SELECT ?, ?, 'presence', jid, room, ?, ?, ?, ? FROM devices WHERE jid = ?";
    case sql_id::heartbeat:
      return "INSERT INTO nodes (node_id, started_at, last_seen) VALUES (?, ?, ?)"
             " ON DUPLICATE KEY UPDATE started_at = VALUES(started_at),"
             " last_seen = GREATEST(last_seen, VALUES(last_seen))";
    case sql_id::nodes:
      return "SELECT node_id, started_at, last_seen FROM nodes ORDER BY node_id";
    case sql_id::heads:
      return "SELECT node_id, last_seq FROM node_sequences ORDER BY node_id";
    case sql_id::after:
      // Each half takes its first `limit` by number, so the first `limit`
      // of the union are the node's next `limit` events. Both halves are
      // range reads of a (node_id, node_seq) key.
      return "(SELECT node_seq, 'report' AS kind, device_jid, room, taken_at_utc,"
             " utc_offset_minutes, received_at, stanza_id, temperature, humidity, brightness,"
             " extra, TRUE AS online, '' AS presence_show, '' AS presence_status FROM readings"
             " WHERE node_id = ? AND node_seq > ? ORDER BY node_seq LIMIT " +
             n +
             ") UNION ALL (SELECT node_seq, kind, jid, room, at, 0, at, NULL, NULL, NULL, NULL,"
             " NULL, online, presence_show, presence_status FROM feed_events"
             " WHERE node_id = ? AND node_seq > ? ORDER BY node_seq LIMIT " +
             n + ") ORDER BY node_seq LIMIT " + n;
    case sql_id::events_after:
      return "SELECT node_seq, kind, jid, room, at, 0, at, NULL, NULL, NULL, NULL, NULL, online,"
             " presence_show, presence_status FROM feed_events"
             " WHERE node_id = ? AND node_seq > ? ORDER BY node_seq LIMIT " +
             n;
    case sql_id::prune:
      return "DELETE FROM feed_events WHERE at < ? LIMIT " + n;
    case sql_id::online_elsewhere:
      return "SELECT d.jid, d.room, d.node, d.last_update FROM devices d"
             " JOIN nodes n ON n.node_id = d.node"
             " WHERE d.online AND d.node <> ? AND n.last_seen >= ?"
             // Bound before its node's process started: a session that
             // process never had (the node restarted since).
             " AND d.bound_at >= n.started_at";
    case sql_id::offline_dead:
      return "UPDATE devices SET online = FALSE WHERE online AND EXISTS (SELECT 1 FROM nodes n"
             " WHERE n.node_id = devices.node"
             " AND (n.last_seen < ? OR devices.bound_at < n.started_at))";
  }
  return {};
}

}  // namespace

mysql_nodes::mysql_nodes(sql::Connection& conn, store_url url)
    : url_(std::move(url)), stmts_(conn, sql_text) {}
mysql_nodes::~mysql_nodes() = default;

void mysql_nodes::forget_statements() { stmts_.clear(); }

template <class T, class Body>
result<T> mysql_nodes::guarded(std::string_view doing, Body&& body) {
  return mysql_guarded<T>(url_, doing, std::forward<Body>(body));
}

std::int64_t mysql_nodes::reserve(std::string_view node, std::size_t count) {
  const auto n = static_cast<std::int64_t>(count);
  pending_.reset();
  if (known_ && known_->node == node) {
    sql::PreparedStatement* s = stmts_.get(sql_id::reserve_known);
    mysql_params(s).integer(known_->seq + n).text(node).integer(known_->seq);
    if (s->executeUpdate() == 1) {
      pending_ = last_number{std::string(node), known_->seq + n};
      return known_->seq + 1;
    }
  }
  sql::PreparedStatement* s = stmts_.get(sql_id::reserve);
  mysql_params(s).text(node).integer(static_cast<std::int64_t>(count));
  s->executeUpdate();
  s = stmts_.get(sql_id::reserved);
  mysql_params(s).text(node);
  std::unique_ptr<sql::ResultSet> rs(s->executeQuery());
  rs->next();
  const std::int64_t last = rs->getInt64(1);
  pending_ = last_number{std::string(node), last};
  return last - n + 1;
}

void mysql_nodes::write_events(const write_batch& batch, const feed_numbers& numbers) {
  for (std::size_t i = 0; i < batch.touches.size(); ++i) {
    if (numbers.touches[i] == 0) continue;
    const device_touch& t = batch.touches[i];
    sql::PreparedStatement* s = stmts_.get(sql_id::bind_event);
    bind_bind_event(mysql_params(s), batch.node, numbers.touches[i], t);
    s->executeUpdate();
  }
  for (std::size_t i = 0; i < batch.presences.size(); ++i) {
    if (numbers.presences[i] == 0) continue;
    const presence_update& u = batch.presences[i];
    sql::PreparedStatement* s = stmts_.get(sql_id::presence_event);
    bind_presence_event(mysql_params(s), batch.node, numbers.presences[i], u);
    s->executeUpdate();
  }
}

result<void> mysql_nodes::heartbeat(std::string_view node, sys_micros started_at, sys_micros now) {
  return guarded<void>("write to", [&]() -> result<void> {
    sql::PreparedStatement* s = stmts_.get(sql_id::heartbeat);
    mysql_params(s).text(node).integer(to_micros(started_at)).integer(to_micros(now));
    s->executeUpdate();
    return {};
  });
}

result<std::vector<node_row>> mysql_nodes::nodes() {
  return guarded<std::vector<node_row>>("read from", [&]() -> result<std::vector<node_row>> {
    std::unique_ptr<sql::ResultSet> rs(stmts_.get(sql_id::nodes)->executeQuery());
    std::vector<node_row> out;
    while (rs->next())
      out.push_back(
          {mysql_text(*rs, 1), from_micros(rs->getInt64(2)), from_micros(rs->getInt64(3))});
    return out;
  });
}

result<std::vector<feed_head>> mysql_nodes::heads() {
  return guarded<std::vector<feed_head>>("read from", [&]() -> result<std::vector<feed_head>> {
    std::unique_ptr<sql::ResultSet> rs(stmts_.get(sql_id::heads)->executeQuery());
    std::vector<feed_head> out;
    while (rs->next()) out.push_back({mysql_text(*rs, 1), rs->getInt64(2)});
    return out;
  });
}

result<std::vector<feed_record>> mysql_nodes::after(std::string_view node, std::int64_t seq,
                                                    std::size_t limit, bool reports) {
  return guarded<std::vector<feed_record>>("read from", [&]() -> result<std::vector<feed_record>> {
    sql::PreparedStatement* s = stmts_.get(reports ? sql_id::after : sql_id::events_after, limit);
    mysql_params p(s);
    p.text(node).integer(seq);
    if (reports) p.text(node).integer(seq);
    std::unique_ptr<sql::ResultSet> rs(s->executeQuery());
    std::vector<feed_record> out;
    while (rs->next()) out.push_back(read_feed_row(mysql_row(*rs)));
    return out;
  });
}

result<std::size_t> mysql_nodes::prune(sys_micros before, std::size_t limit) {
  return guarded<std::size_t>("write to", [&]() -> result<std::size_t> {
    sql::PreparedStatement* s = stmts_.get(sql_id::prune, limit);
    mysql_params(s).integer(to_micros(before));
    return static_cast<std::size_t>(s->executeUpdate());
  });
}

result<std::vector<device_row>> mysql_nodes::online_elsewhere(std::string_view node,
                                                              sys_micros live_since) {
  return guarded<std::vector<device_row>>("read from", [&]() -> result<std::vector<device_row>> {
    sql::PreparedStatement* s = stmts_.get(sql_id::online_elsewhere);
    mysql_params(s).text(node).integer(to_micros(live_since));
    std::unique_ptr<sql::ResultSet> rs(s->executeQuery());
    std::vector<device_row> out;
    while (rs->next()) out.push_back(read_online_elsewhere_row(mysql_row(*rs)));
    return out;
  });
}

result<std::size_t> mysql_nodes::offline_dead_nodes(sys_micros dead_before) {
  // One statement in its own transaction; a deadlock with another node's
  // writer (both lock device rows) is retried.
  return mysql_retry_deadlocks([&] {
    return guarded<std::size_t>("write to", [&]() -> result<std::size_t> {
      sql::PreparedStatement* s = stmts_.get(sql_id::offline_dead);
      mysql_params(s).integer(to_micros(dead_before));
      return static_cast<std::size_t>(s->executeUpdate());
    });
  });
}

}  // namespace iotxmpp
