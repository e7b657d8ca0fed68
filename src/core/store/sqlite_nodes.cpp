#include "core/store/sqlite_nodes.hpp"

namespace iotxmpp {

enum class sqlite_nodes::sql : int {
  reserve,
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

using sql = sqlite_nodes::sql;

std::string sql_text(sql id, std::size_t) {
  switch (id) {
    case sql::reserve:
      return "INSERT INTO node_sequences (node_id, last_seq) VALUES (?1, ?2)"
             " ON CONFLICT (node_id) DO UPDATE SET last_seq = last_seq + excluded.last_seq"
             " RETURNING last_seq";
    case sql::bind_event:
      return "INSERT INTO feed_events (node_id, node_seq, kind, jid, room, at, online,"
             " presence_show, presence_status) VALUES (?1, ?2, 'bind', ?3, ?4, ?5, 1, '', '')";
    case sql::presence_event:
      // The device's room as its row has it now: the touches that moved it
      // were written before, in this transaction.
      return "INSERT INTO feed_events (node_id, node_seq, kind, jid, room, at, online,"
             " presence_show, presence_status)"
             " SELECT ?1, ?2, 'presence', jid, room, ?3, ?4, ?5, ?6 FROM devices WHERE jid = ?7";
    case sql::heartbeat:
      return "INSERT INTO nodes (node_id, started_at, last_seen) VALUES (?1, ?2, ?3)"
             " ON CONFLICT (node_id) DO UPDATE SET started_at = excluded.started_at,"
             " last_seen = max(last_seen, excluded.last_seen)";
    case sql::nodes:
      return "SELECT node_id, started_at, last_seen FROM nodes ORDER BY node_id";
    case sql::heads:
      return "SELECT node_id, last_seq FROM node_sequences ORDER BY node_id";
    case sql::after:
      // Each half takes its first `limit` by number, so the first `limit`
      // of the union are the node's next `limit` events.
      return "SELECT * FROM (SELECT node_seq, 'report', device_jid, room, taken_at_utc,"
             " utc_offset_minutes, received_at, stanza_id, temperature, humidity, brightness,"
             " extra, 1, '', '' FROM readings WHERE node_id = ?1 AND node_seq > ?2"
             " ORDER BY node_seq LIMIT ?3)"
             " UNION ALL SELECT * FROM (SELECT node_seq, kind, jid, room, at, 0, at, NULL, NULL,"
             " NULL, NULL, NULL, online, presence_show, presence_status FROM feed_events"
             " WHERE node_id = ?1 AND node_seq > ?2 ORDER BY node_seq LIMIT ?3)"
             " ORDER BY 1 LIMIT ?3";
    case sql::events_after:
      return "SELECT node_seq, kind, jid, room, at, 0, at, NULL, NULL, NULL, NULL, NULL, online,"
             " presence_show, presence_status FROM feed_events"
             " WHERE node_id = ?1 AND node_seq > ?2 ORDER BY node_seq LIMIT ?3";
    case sql::prune:
      return "DELETE FROM feed_events WHERE rowid IN"
             " (SELECT rowid FROM feed_events WHERE at < ?1 LIMIT ?2)";
    case sql::online_elsewhere:
      return "SELECT d.jid, d.room, d.node, d.last_update FROM devices d"
             " JOIN nodes n ON n.node_id = d.node"
             " WHERE d.online AND d.node <> ?1 AND n.last_seen >= ?2"
             // Bound before its node's process started: a session that
             // process never had (the node restarted since).
             " AND d.bound_at >= n.started_at";
    case sql::offline_dead:
      return "UPDATE devices SET online = 0 WHERE online AND EXISTS (SELECT 1 FROM nodes n"
             " WHERE n.node_id = devices.node"
             " AND (n.last_seen < ?1 OR devices.bound_at < n.started_at))";
  }
  return {};
}

}  // namespace

sqlite_nodes::sqlite_nodes(sqlite3* db, std::string where)
    : stmts_(db, std::move(where), sql_text) {}

result<std::int64_t> sqlite_nodes::reserve(std::string_view node, std::size_t count) {
  auto s = stmts_.get(sql::reserve);
  if (!s) return std::unexpected(s.error());
  sqlite_reset_on_exit reset{*s};
  sqlite_params(*s).text(node).integer(static_cast<std::int64_t>(count));
  int rc = sqlite3_step(*s);
  if (rc != SQLITE_ROW) return stmts_.failure(rc);
  const std::int64_t last = sqlite3_column_int64(*s, 0);
  // Read to the end: RETURNING's write completes there.
  while ((rc = sqlite3_step(*s)) == SQLITE_ROW) {
  }
  if (rc != SQLITE_DONE) return stmts_.failure(rc);
  return last - static_cast<std::int64_t>(count) + 1;
}

result<void> sqlite_nodes::write_events(const write_batch& batch, const feed_numbers& numbers) {
  for (std::size_t i = 0; i < batch.touches.size(); ++i) {
    if (numbers.touches[i] == 0) continue;
    const device_touch& t = batch.touches[i];
    auto s = stmts_.get(sql::bind_event);
    if (!s) return std::unexpected(s.error());
    bind_bind_event(sqlite_params(*s), batch.node, numbers.touches[i], t);
    if (auto r = stmts_.step_done(*s); !r) return r;
  }
  for (std::size_t i = 0; i < batch.presences.size(); ++i) {
    if (numbers.presences[i] == 0) continue;
    const presence_update& u = batch.presences[i];
    auto s = stmts_.get(sql::presence_event);
    if (!s) return std::unexpected(s.error());
    bind_presence_event(sqlite_params(*s), batch.node, numbers.presences[i], u);
    if (auto r = stmts_.step_done(*s); !r) return r;
  }
  return {};
}

result<void> sqlite_nodes::heartbeat(std::string_view node, sys_micros started_at, sys_micros now) {
  auto s = stmts_.get(sql::heartbeat);
  if (!s) return std::unexpected(s.error());
  sqlite_params(*s).text(node).integer(to_micros(started_at)).integer(to_micros(now));
  return stmts_.step_done(*s);
}

result<std::vector<node_row>> sqlite_nodes::nodes() {
  auto s = stmts_.get(sql::nodes);
  if (!s) return std::unexpected(s.error());
  std::vector<node_row> out;
  auto r = stmts_.each_row(*s, [&](sqlite3_stmt* row) {
    out.push_back({sqlite_column_bytes(row, 0), from_micros(sqlite3_column_int64(row, 1)),
                   from_micros(sqlite3_column_int64(row, 2))});
  });
  if (!r) return std::unexpected(r.error());
  return out;
}

result<std::vector<feed_head>> sqlite_nodes::heads() {
  auto s = stmts_.get(sql::heads);
  if (!s) return std::unexpected(s.error());
  std::vector<feed_head> out;
  auto r = stmts_.each_row(*s, [&](sqlite3_stmt* row) {
    out.push_back({sqlite_column_bytes(row, 0), sqlite3_column_int64(row, 1)});
  });
  if (!r) return std::unexpected(r.error());
  return out;
}

result<std::vector<feed_record>> sqlite_nodes::after(std::string_view node, std::int64_t seq,
                                                     std::size_t limit, bool reports) {
  auto s = stmts_.get(reports ? sql::after : sql::events_after);
  if (!s) return std::unexpected(s.error());
  sqlite_params(*s).text(node).integer(seq).integer(static_cast<std::int64_t>(limit));
  std::vector<feed_record> out;
  auto r = stmts_.each_row(
      *s, [&](sqlite3_stmt* row) { out.push_back(read_feed_row(sqlite_row(row))); });
  if (!r) return std::unexpected(r.error());
  return out;
}

result<std::size_t> sqlite_nodes::prune(sys_micros before, std::size_t limit) {
  auto s = stmts_.get(sql::prune);
  if (!s) return std::unexpected(s.error());
  sqlite_params(*s).integer(to_micros(before)).integer(static_cast<std::int64_t>(limit));
  return stmts_.changes(*s);
}

result<std::vector<device_row>> sqlite_nodes::online_elsewhere(std::string_view node,
                                                               sys_micros live_since) {
  auto s = stmts_.get(sql::online_elsewhere);
  if (!s) return std::unexpected(s.error());
  sqlite_params(*s).text(node).integer(to_micros(live_since));
  std::vector<device_row> out;
  auto r = stmts_.each_row(
      *s, [&](sqlite3_stmt* row) { out.push_back(read_online_elsewhere_row(sqlite_row(row))); });
  if (!r) return std::unexpected(r.error());
  return out;
}

result<std::size_t> sqlite_nodes::offline_dead_nodes(sys_micros dead_before) {
  auto s = stmts_.get(sql::offline_dead);
  if (!s) return std::unexpected(s.error());
  sqlite_params(*s).integer(to_micros(dead_before));
  return stmts_.changes(*s);
}

}  // namespace iotxmpp
