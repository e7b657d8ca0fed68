#include "core/store/schema.hpp"

namespace iotxmpp {
namespace {

// Times are stored as integer microseconds since the Unix epoch, UTC
// (BIGINT), on both engines: exact, cheap to compare and index, and free of
// the engines' differing DATETIME rules. A report's local clock is
// taken_at_utc + utc_offset_minutes.
//
// Text limits are the same on both engines (MySQL by column type, SQLite by
// CHECK), so a record one engine takes the other takes too: JIDs up to 767
// characters, rooms and stanza ids up to 255; a room is never empty.

const std::vector<migration> sqlite_migrations = {
    {1,
     "initial schema",
     {
         R"(CREATE TABLE schema_version (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  applied_at INTEGER NOT NULL -- UTC microseconds since the epoch
))",
         R"(CREATE TABLE devices (
  jid TEXT PRIMARY KEY NOT NULL CHECK (length(jid) BETWEEN 1 AND 767),
  room TEXT NOT NULL DEFAULT '' CHECK (length(room) <= 255),
  first_seen INTEGER NOT NULL,  -- UTC microseconds since the epoch
  last_update INTEGER NOT NULL, -- UTC microseconds since the epoch
  online INTEGER NOT NULL DEFAULT 0,
  presence_show TEXT NOT NULL DEFAULT '',
  presence_status TEXT NOT NULL DEFAULT ''
))",
         R"(CREATE TABLE readings (
  id INTEGER PRIMARY KEY,
  device_jid TEXT NOT NULL CHECK (length(device_jid) <= 767),
  room TEXT NOT NULL CHECK (length(room) BETWEEN 1 AND 255),
  taken_at_utc INTEGER NOT NULL, -- UTC microseconds since the epoch
  utc_offset_minutes INTEGER NOT NULL,
  received_at INTEGER NOT NULL,  -- UTC microseconds since the epoch
  temperature REAL,
  humidity REAL,
  brightness REAL,
  extra TEXT,      -- JSON: other values and non-default units; NULL when none
  stanza_id TEXT CHECK (stanza_id IS NULL OR length(stanza_id) BETWEEN 1 AND 255),
  UNIQUE (room, stanza_id)
))",
         "CREATE INDEX readings_room_time ON readings (room, taken_at_utc)",
         R"(CREATE TABLE recommendations (
  id INTEGER PRIMARY KEY,
  room TEXT NOT NULL CHECK (length(room) BETWEEN 1 AND 255),
  asked_by TEXT NOT NULL CHECK (length(asked_by) <= 767),
  at_utc INTEGER NOT NULL,       -- UTC microseconds since the epoch
  utc_offset_minutes INTEGER NOT NULL,
  period TEXT NOT NULL CHECK (length(period) <= 64)
))",
     }},
    {2,
     "recommendation targets, reaping index",
     {
         // JSON array of {name, value, unit, action}; NULL for rows from v1.
         "ALTER TABLE recommendations ADD COLUMN targets TEXT",
         "CREATE INDEX recommendations_room_time ON recommendations (room, at_utc)",
         "CREATE INDEX devices_last_update ON devices (last_update)",
     }},
    {3,
     "device accounts",
     {
         // Credentials are binary (raw bytes, never the password); lengths
         // are bytes. A removed account's events stay (ids never reused).
         R"(CREATE TABLE accounts (
  name TEXT PRIMARY KEY NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
  disabled INTEGER NOT NULL DEFAULT 0,
  created INTEGER NOT NULL,  -- UTC microseconds since the epoch
  last_login INTEGER         -- UTC microseconds since the epoch; NULL: never
))",
         R"(CREATE TABLE account_credentials (
  name TEXT NOT NULL,
  hash TEXT NOT NULL CHECK (length(hash) BETWEEN 1 AND 16),
  salt BLOB NOT NULL CHECK (length(salt) BETWEEN 1 AND 255),
  iterations INTEGER NOT NULL,
  stored_key BLOB NOT NULL CHECK (length(stored_key) BETWEEN 1 AND 64),
  server_key BLOB NOT NULL CHECK (length(server_key) BETWEEN 1 AND 64),
  PRIMARY KEY (name, hash)
))",
         R"(CREATE TABLE account_grants (
  name TEXT NOT NULL,
  pattern BLOB NOT NULL CHECK (length(pattern) BETWEEN 1 AND 1023),
  PRIMARY KEY (name, pattern)
))",
         R"(CREATE TABLE account_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (length(kind) BETWEEN 1 AND 16),
  at INTEGER NOT NULL  -- UTC microseconds since the epoch
))",
     }},
    {4,
     "batch tokens",
     {
         // One row per batch a writer committed, so that a retry of a batch
         // whose COMMIT reply was lost can tell it already committed (the
         // MySQL store; store.hpp). SQLite keeps the table for the same
         // schema on both engines but writes no tokens: its COMMIT has no
         // reply to lose.
         R"(CREATE TABLE batch_tokens (
  token BLOB PRIMARY KEY NOT NULL CHECK (length(token) = 16),
  committed_at INTEGER NOT NULL  -- UTC microseconds since the epoch
))",
         "CREATE INDEX batch_tokens_committed_at ON batch_tokens (committed_at)",
     }},
    {5,
     "nodes: device sessions, cross-node feed, heartbeats",
     {
         // The node that bound the device last and when (the newest bind
         // wins, store.hpp): how a node learns that a newer session took a
         // JID it holds, and where disco#items says a device is.
         "ALTER TABLE devices ADD COLUMN node TEXT"
         " CHECK (node IS NULL OR length(node) BETWEEN 1 AND 64)",
         "ALTER TABLE devices ADD COLUMN bound_at INTEGER",  // UTC microseconds since the epoch
         "CREATE INDEX devices_node ON devices (node)",
         // The feed across nodes: each node numbers its events 1, 2, ... in
         // commit order (node_sequences); a report is its readings row, a
         // presence or a bind a feed_events row. NULL for rows written by
         // tools and before v5. A plain index, cheaper to insert into than
         // a unique one: the numbers are unique by how they are taken.
         "ALTER TABLE readings ADD COLUMN node_id TEXT"
         " CHECK (node_id IS NULL OR length(node_id) BETWEEN 1 AND 64)",
         "ALTER TABLE readings ADD COLUMN node_seq INTEGER",
         "CREATE INDEX readings_node_seq ON readings (node_id, node_seq)",
         R"(CREATE TABLE feed_events (
  node_id TEXT NOT NULL CHECK (length(node_id) BETWEEN 1 AND 64),
  node_seq INTEGER NOT NULL,
  kind TEXT NOT NULL CHECK (length(kind) BETWEEN 1 AND 16), -- presence, bind
  jid TEXT NOT NULL CHECK (length(jid) <= 767),
  room TEXT NOT NULL DEFAULT '' CHECK (length(room) <= 255),
  at INTEGER NOT NULL,  -- UTC microseconds since the epoch
  online INTEGER NOT NULL DEFAULT 1,
  presence_show TEXT NOT NULL DEFAULT '',
  presence_status TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (node_id, node_seq)
))",
         "CREATE INDEX feed_events_at ON feed_events (at)",
         // The last number each node gave: never goes back, even when the
         // events that carried it are pruned.
         R"(CREATE TABLE node_sequences (
  node_id TEXT PRIMARY KEY NOT NULL CHECK (length(node_id) BETWEEN 1 AND 64),
  last_seq INTEGER NOT NULL
))",
         R"(CREATE TABLE nodes (
  node_id TEXT PRIMARY KEY NOT NULL CHECK (length(node_id) BETWEEN 1 AND 64),
  started_at INTEGER NOT NULL, -- UTC microseconds since the epoch
  last_seen INTEGER NOT NULL   -- UTC microseconds since the epoch: its last heartbeat
))",
     }},
};

// utf8mb4_bin: exact, case-sensitive matching of JIDs, rooms and ids, as
// SQLite compares text.
#define IOTXMPP_MYSQL_TABLE " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"
#define IOTXMPP_MYSQL_MICROS " COMMENT 'UTC microseconds since the epoch'"

const std::vector<migration> mysql_migrations = {
    {1,
     "initial schema",
     {
         "CREATE TABLE schema_version ("
         " version INT NOT NULL PRIMARY KEY,"
         " name VARCHAR(200) NOT NULL,"
         " applied_at BIGINT NOT NULL" IOTXMPP_MYSQL_MICROS ")" IOTXMPP_MYSQL_TABLE,
         "CREATE TABLE devices ("
         " jid VARCHAR(767) NOT NULL PRIMARY KEY,"
         " room VARCHAR(255) NOT NULL DEFAULT '',"
         " first_seen BIGINT NOT NULL" IOTXMPP_MYSQL_MICROS ","
         " last_update BIGINT NOT NULL" IOTXMPP_MYSQL_MICROS ","
         " online BOOLEAN NOT NULL DEFAULT FALSE,"
         " presence_show TEXT NOT NULL,"
         " presence_status TEXT NOT NULL,"
         " CONSTRAINT devices_jid_nonempty CHECK (jid <> ''))" IOTXMPP_MYSQL_TABLE,
         "CREATE TABLE readings ("
         " id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,"
         " device_jid VARCHAR(767) NOT NULL,"
         " room VARCHAR(255) NOT NULL,"
         " taken_at_utc BIGINT NOT NULL" IOTXMPP_MYSQL_MICROS ","
         " utc_offset_minutes SMALLINT NOT NULL,"
         " received_at BIGINT NOT NULL" IOTXMPP_MYSQL_MICROS ","
         " temperature DOUBLE NULL,"
         " humidity DOUBLE NULL,"
         " brightness DOUBLE NULL,"
         " extra MEDIUMTEXT NULL COMMENT 'JSON: other values and non-default units',"
         " stanza_id VARCHAR(255) NULL,"
         " UNIQUE KEY readings_room_stanza (room, stanza_id),"
         " KEY readings_room_time (room, taken_at_utc),"
         " CONSTRAINT readings_room_nonempty CHECK (room <> ''),"
         " CONSTRAINT readings_stanza_nonempty CHECK (stanza_id IS NULL OR stanza_id <> "
         "''))" IOTXMPP_MYSQL_TABLE,
         "CREATE TABLE recommendations ("
         " id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,"
         " room VARCHAR(255) NOT NULL,"
         " asked_by VARCHAR(767) NOT NULL,"
         " at_utc BIGINT NOT NULL" IOTXMPP_MYSQL_MICROS ","
         " utc_offset_minutes SMALLINT NOT NULL,"
         " period VARCHAR(64) NOT NULL,"
         " CONSTRAINT recommendations_room_nonempty CHECK (room <> ''))" IOTXMPP_MYSQL_TABLE,
     }},
    {2,
     "recommendation targets, reaping index",
     {
         "ALTER TABLE recommendations ADD COLUMN targets MEDIUMTEXT NULL"
         " COMMENT 'JSON array of {name, value, unit, action}; NULL for rows from v1',"
         " ADD KEY recommendations_room_time (room, at_utc)",
         "CREATE INDEX devices_last_update ON devices (last_update)",
     }},
    {3,
     "device accounts",
     {
         // Binary columns: credentials are raw bytes, and grants compare
         // byte for byte (utf8mb4_bin pads: 'a' = 'a ' there).
         "CREATE TABLE accounts ("
         " name VARCHAR(64) NOT NULL PRIMARY KEY,"
         " disabled BOOLEAN NOT NULL DEFAULT FALSE,"
         " created BIGINT NOT NULL" IOTXMPP_MYSQL_MICROS ","
         " last_login BIGINT NULL COMMENT 'UTC microseconds since the epoch; NULL: never',"
         " CONSTRAINT accounts_name_nonempty CHECK (name <> ''))" IOTXMPP_MYSQL_TABLE,
         "CREATE TABLE account_credentials ("
         " name VARCHAR(64) NOT NULL,"
         " hash VARCHAR(16) NOT NULL,"
         " salt VARBINARY(255) NOT NULL,"
         " iterations INT UNSIGNED NOT NULL,"
         " stored_key VARBINARY(64) NOT NULL,"
         " server_key VARBINARY(64) NOT NULL,"
         " PRIMARY KEY (name, hash))" IOTXMPP_MYSQL_TABLE,
         "CREATE TABLE account_grants ("
         " name VARCHAR(64) NOT NULL,"
         " pattern VARBINARY(1023) NOT NULL,"
         " PRIMARY KEY (name, pattern),"
         " CONSTRAINT account_grants_pattern_nonempty CHECK (pattern <> ''))" IOTXMPP_MYSQL_TABLE,
         "CREATE TABLE account_events ("
         " id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,"
         " name VARCHAR(64) NOT NULL,"
         " kind VARCHAR(16) NOT NULL,"
         " at BIGINT NOT NULL" IOTXMPP_MYSQL_MICROS ")" IOTXMPP_MYSQL_TABLE,
     }},
    {4,
     "batch tokens",
     {
         // The primary key is what makes a retried batch idempotent: a second
         // insert of a token waits for, then collides with, the first
         // (mysql_store.cpp). The index makes pruning cheap.
         "CREATE TABLE batch_tokens ("
         " token BINARY(16) NOT NULL PRIMARY KEY,"
         " committed_at BIGINT NOT NULL" IOTXMPP_MYSQL_MICROS ","
         " KEY batch_tokens_committed_at (committed_at))" IOTXMPP_MYSQL_TABLE,
     }},
    {5,
     "nodes: device sessions, cross-node feed, heartbeats",
     {
         // As for SQLite above.
         "ALTER TABLE devices"
         " ADD COLUMN node VARCHAR(64) NULL COMMENT 'node that bound the device last',"
         " ADD COLUMN bound_at BIGINT NULL" IOTXMPP_MYSQL_MICROS ","
         " ADD KEY devices_node (node)",
         "ALTER TABLE readings"
         " ADD COLUMN node_id VARCHAR(64) NULL COMMENT 'node that accepted the report',"
         " ADD COLUMN node_seq BIGINT NULL COMMENT 'its number in that node''s feed',"
         " ADD KEY readings_node_seq (node_id, node_seq)",
         "CREATE TABLE feed_events ("
         " node_id VARCHAR(64) NOT NULL,"
         " node_seq BIGINT NOT NULL,"
         " kind VARCHAR(16) NOT NULL COMMENT 'presence, bind',"
         " jid VARCHAR(767) NOT NULL,"
         " room VARCHAR(255) NOT NULL DEFAULT '',"
         " at BIGINT NOT NULL" IOTXMPP_MYSQL_MICROS ","
         " online BOOLEAN NOT NULL DEFAULT TRUE,"
         " presence_show TEXT NOT NULL,"
         " presence_status TEXT NOT NULL,"
         " PRIMARY KEY (node_id, node_seq),"
         " KEY feed_events_at (at))" IOTXMPP_MYSQL_TABLE,
         "CREATE TABLE node_sequences ("
         " node_id VARCHAR(64) NOT NULL PRIMARY KEY,"
         " last_seq BIGINT NOT NULL)" IOTXMPP_MYSQL_TABLE,
         "CREATE TABLE nodes ("
         " node_id VARCHAR(64) NOT NULL PRIMARY KEY,"
         " started_at BIGINT NOT NULL" IOTXMPP_MYSQL_MICROS ","
         " last_seen BIGINT NOT NULL COMMENT 'UTC microseconds since the epoch: last "
         "heartbeat')" IOTXMPP_MYSQL_TABLE,
     }},
};

#undef IOTXMPP_MYSQL_TABLE
#undef IOTXMPP_MYSQL_MICROS

}  // namespace

std::span<const migration> migrations(sql_dialect dialect) {
  return dialect == sql_dialect::sqlite ? sqlite_migrations : mysql_migrations;
}

std::vector<const migration*> pending_migrations(sql_dialect dialect, int from, int to) {
  std::vector<const migration*> out;
  for (const migration& m : migrations(dialect))
    if (m.version > from && m.version <= to) out.push_back(&m);
  return out;
}

std::string migration_label(const migration& m) {
  // Appended step by step: the one-expression form trips GCC 12's -Wrestrict
  // false positive (GCC bug 105329) in optimised builds.
  std::string label = "v";
  label += std::to_string(m.version);
  label += ": ";
  label += m.name;
  return label;
}

}  // namespace iotxmpp
