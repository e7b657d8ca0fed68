#pragma once
// The storage interface: one connection to one database (SQLite or MySQL),
// chosen by a URL. The server writes through store_writer (store_writer.hpp),
// which batches many records into one apply(); tools and tests use a store
// directly.
//
// Errors a store returns, and what they mean for a caller that retries:
//   connect   the database is unreachable or the connection was lost
//   timeout   busy / lock wait / deadlock: the same call may succeed later
//   io        local I/O trouble (disk full, I/O error): may succeed later
//   database  the statement or the data was refused: retrying cannot help
//   usage     a bad URL
// No message ever holds a password (URLs are shown redacted).
//
// Idempotent commits. When the connection is lost while COMMIT is in flight,
// the outcome is unknown: the server may have committed and only its reply
// was lost. store_writer retries such a batch (a connect error) with the same
// write_batch::token, and the MySQL store makes apply() idempotent per token,
// so that no batch is applied twice and none is lost:
//   - The token's row in batch_tokens (primary key: the token) is the first
//     write of the batch's transaction, so it commits exactly when the batch
//     does.
//   - A retry inserts the token again, first. If the earlier attempt
//     committed, the insert hits the key: apply() rolls back and succeeds,
//     writing nothing twice. If that attempt is still committing on the
//     server (its session has not yet noticed the lost client), the insert
//     waits on its row lock, then collides (committed) or proceeds (rolled
//     back). If it rolled back, or never reached COMMIT, the insert proceeds
//     and the batch is written now: nothing is lost. It is an INSERT, not a
//     SELECT, because a plain read would not wait for a commit in progress.
//   - Galera, where the retry may reach another node: the token's row is in
//     the batch's write set and is replicated with it. Row locks are per
//     node, but certification orders write sets cluster-wide and fails the
//     later of two that insert the same key. So exactly one of the attempts
//     commits anywhere: if the retry's is the later, it gets a deadlock
//     error (error_kind::timeout, retried with the same token) or, once the
//     first write set is applied on its node, the key; if the first attempt's
//     write set was never certified (its node crashed or left the primary
//     component), it committed nowhere and the retry writes the batch.
//   - Tokens older than batch_token_keep are pruned now and then. The promise
//     therefore holds for a retry within that time of the lost COMMIT, as
//     measured by the writers' wall clocks (skew between hosts eats into it);
//     a writer still retrying one batch after longer (a database outage of
//     over an hour) logs that it may store it twice.
// SQLite writes no tokens (it keeps the table, so both engines have one
// schema): it runs in-process and sqlite3_step(COMMIT) returns the outcome,
// so there is no reply to lose.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/error.hpp"
#include "core/model/account.hpp"
#include "core/model/model.hpp"

namespace iotxmpp {

// A database address: `sqlite:PATH` or
// `mysql://USER[:PASSWORD]@HOST[:PORT]/DATABASE` (port 3306 by default;
// user and password may be percent-encoded, e.g. %40 for '@').
struct store_url {
  enum class engine { sqlite, mysql } kind = engine::sqlite;
  std::string path;                            // sqlite
  std::string user, password, host, database;  // mysql
  unsigned short port = 3306;

  // Parses `text`; error_kind::usage with the precise reason when it is not
  // one of the two forms. The reason never repeats the password.
  static result<store_url> parse(std::string_view text);
  // The URL for logs and messages: `mysql://user:***@host:port/db` (the
  // password replaced, and `:***` only when there is one) or `sqlite:PATH`.
  std::string redacted() const;
};

// Refreshes a device row (upsert): last_update = at (it never moves back),
// first_seen set on insert, room set when non-empty, online = true.
struct device_touch {
  std::string device_jid;
  std::string room;
  sys_micros at{};
  // Non-zero: the device bound at this instant on the batch's node
  // (write_batch::node). The row's node and bound_at become that node and
  // instant unless the row holds a later bind, so the newest bind wins
  // whatever order the nodes commit in; and the bind is an event of the
  // node's feed (below), which tells the other nodes.
  sys_micros bound_at{};
};

// A device whose session ended: online = false on its row if the row still
// exists. It never makes a row and leaves last_update alone (that moves only
// on what the device sent): a reaped device stays removed. With a batch
// node, only a row that node holds (or that no node holds) changes: a
// session that lost its JID to a newer one on another node (conflict)
// leaves that one's row online.
struct device_offline {
  std::string device_jid;
};

// A successful login of an account: its last_login moves to `at` (never
// back). Nothing when the account is gone.
struct account_login {
  std::string name;
  sys_micros at{};
};

// One event of a node's feed in a write_batch: which record, by its kind and
// index in the batch's vector of that kind.
struct feed_ref {
  enum class what : std::uint8_t { report, presence, bind } kind = what::report;
  std::uint32_t index = 0;  // into reports, presences or touches (a bind)
};

// Everything one transaction writes. apply() writes device changes in the
// order touches, presences, offlines (so a touch and an offline of the same
// device in one batch leave it offline); a producer that needs another order
// splits its changes over two batches (store_writer does).
//
// The feed across nodes. With a `node`, each report, presence and bind
// (a touch with bound_at) of the batch is an event of that node's feed:
// apply() numbers them in the order of `feed_order` with the node's next
// sequence numbers (node_sequences), in the batch's transaction, and a
// second transaction of the node waits for the first one's lock on its
// sequence row. So a node's numbers grow in commit order without gaps
// between commits (a duplicate report, skipped, leaves one), they are never
// given twice, and they go on from the last one after a restart. Another
// node that has read up to N and then reads `> N` misses nothing
// (feed_after). A report's event is its readings row, a presence's and a
// bind's a feed_events row.
struct write_batch {
  // Names the batch for idempotent commits (above): 32 lowercase hex digits
  // (16 random bytes), the same on every retry of the batch, fresh for any
  // other batch. Empty: no token, and a retry may write the batch twice.
  std::string token;
  std::vector<status_report> reports;  // a duplicate (room, stanza_id) is skipped, not an error
  std::vector<presence_update> presences;
  std::vector<recommendation> recommendations;
  std::vector<device_touch> touches;
  std::vector<device_offline> offlines;
  std::vector<account_login> logins;
  // The node whose writer commits the batch (1-64 characters), or empty for
  // none (tools, tests): no feed events, binds stamp no node, offlines are
  // not limited to a node's rows, and no column of schema v5 is written (so
  // such a batch also fits a database of an older schema).
  std::string node;
  // The feed events in the order they happened (store_writer fills it in
  // submission order). Empty with a node: the binds, then the presences,
  // then the reports, each in vector order.
  std::vector<feed_ref> feed_order;

  bool empty() const;        // no records (a token alone is nothing to write)
  std::size_t size() const;  // records of every kind
};

// An event of a node's feed as another node reads it back (feed_after).
struct feed_record {
  std::int64_t seq = 0;  // the node's number for it
  feed_ref::what kind = feed_ref::what::report;
  // report: as stored (device_jid, room, stanza_id, taken_at, received_at,
  // values).
  status_report report;
  // presence: device_jid, online, show, status, at; `room` is the device's
  // room when it was stored. bind: device_jid and at (the bind's instant).
  presence_update presence;
  std::string room;
};

// The last sequence number each node gave (0 before its first event).
struct feed_head {
  std::string node;
  std::int64_t last_seq = 0;
};

// A node's heartbeat row.
struct node_row {
  std::string node;
  sys_micros started_at{};
  sys_micros last_seen{};
};

// How long a committed batch's token is kept: a retry of a batch within this
// time of its lost COMMIT is recognised (above).
inline constexpr std::chrono::hours batch_token_keep{1};

struct migration_report {
  int from_version = 0;  // 0: the database had no schema
  int to_version = 0;
  std::vector<std::string> applied;  // "v1: initial schema", one per migration run
};

// One connection to one database. Not thread-safe: use one store per thread.
// Several stores (threads or processes) may share one database.
class store {
 public:
  virtual ~store() = default;

  // Creates or migrates the schema to the latest version; idempotent, and
  // safe when two processes run it at once.
  virtual result<migration_report> migrate() = 0;
  // Migrates up to `version` only (tests, staged upgrades). Stores that
  // cannot (fakes) keep this default, which fails.
  virtual result<migration_report> migrate_to(int version);
  // Writes the whole batch in one transaction: all of it or nothing. With a
  // token, a batch whose token already committed succeeds and writes nothing
  // (MySQL; see "Idempotent commits" above). A connect error may come after
  // the batch committed: retry it with the same token.
  virtual result<void> apply(const write_batch& batch) = 0;
  // The room's latest report: the newest taken_at instant (the highest id
  // among equal instants), so a late resend of an old report does not hide a
  // newer one. nullopt when the room has none.
  virtual result<std::optional<status_report>> latest_report(std::string_view room) = 0;
  // Every device, or only those online, ordered by JID.
  virtual result<std::vector<device_row>> devices(bool online_only) = 0;
  // Devices whose last_update < cutoff, removed (unless dry_run) and
  // returned, ordered by JID. Only rows this call actually deleted are
  // returned, so two concurrent reapers never both report one device.
  // Readings and recommendations stay.
  virtual result<std::vector<device_row>> reap(sys_micros cutoff, bool dry_run) = 0;
  virtual result<std::size_t> count_reports() = 0;  // rows in readings
  virtual result<std::size_t> count_recommendations() = 0;
  // Device accounts (model/account.hpp). Names and grants are checked by
  // the caller (valid_account_name, valid_room_grant). The calls that change
  // an account return whether it existed, and record an account_event when
  // live sessions must follow (disabled, removed, revoked, password).
  //
  // Adds every account in one transaction, all or none; error_kind::usage
  // "device NAME exists" when one of the names is taken.
  virtual result<void> add_accounts(const std::vector<account>& accounts);
  virtual result<std::optional<account>> find_account(std::string_view name);
  virtual result<std::vector<account>> list_accounts();  // ordered by name
  // Replaces every credential of the account.
  virtual result<bool> set_account_credentials(std::string_view name,
                                               const std::vector<account_credentials>& creds);
  virtual result<bool> set_account_disabled(std::string_view name, bool disabled);
  // Adds grants (already present ones are kept once) / removes them (absent
  // ones are ignored).
  virtual result<bool> grant_rooms(std::string_view name, const std::vector<std::string>& rooms);
  virtual result<bool> revoke_rooms(std::string_view name, const std::vector<std::string>& rooms);
  virtual result<bool> remove_account(std::string_view name);
  // The newest event's id (0 when there is none), and the events after `id`
  // in id order, at most `limit`.
  virtual result<std::int64_t> last_account_event();
  virtual result<std::vector<account_event>> account_events_after(std::int64_t id,
                                                                  std::size_t limit);

  // Several nodes over one database (write_batch above; the server's
  // cluster_sync). Stores that cannot (fakes) keep the defaults, which fail.
  //
  // Records the node's heartbeat: its row gets last_seen = now (never moving
  // back) and started_at.
  virtual result<void> heartbeat(std::string_view node, sys_micros started_at, sys_micros now);
  // Every node's heartbeat row, ordered by node.
  virtual result<std::vector<node_row>> nodes();
  // Every node's last sequence number, ordered by node.
  virtual result<std::vector<feed_head>> feed_heads();
  // The node's events numbered above `after`, in number order, at most
  // `limit`; without `reports`, only its presences and binds (cheaper: a
  // node nobody follows the feed on reads only those). Presences and binds
  // older than prune_feed's cutoff may be gone.
  virtual result<std::vector<feed_record>> feed_after(std::string_view node, std::int64_t after,
                                                      std::size_t limit, bool reports = true);
  // Deletes at most `limit` presence and bind events older than `before`
  // (reports stay: they are the readings); returns how many. Safe beside
  // other nodes doing the same.
  virtual result<std::size_t> prune_feed(sys_micros before, std::size_t limit);
  // The devices online on nodes other than `node` whose heartbeat is not
  // older than `live_since`, with their room and node (no order); not those
  // bound before their node last started (it restarted without them).
  virtual result<std::vector<device_row>> online_elsewhere(std::string_view node,
                                                           sys_micros live_since);
  // Marks offline, in one statement, the online devices held by nodes whose
  // last heartbeat is older than `dead_before` (they died without ending
  // their sessions), and those bound before their node last started (it
  // restarted since, without them); returns how many. Idempotent, and safe beside another
  // node doing the same: a device that bound anew elsewhere meanwhile is
  // held by that node and left alone.
  virtual result<std::size_t> offline_dead_nodes(sys_micros dead_before);

  // Cheap liveness check; error_kind::connect when the database is gone.
  virtual result<void> ping() = 0;
  // The engine and the redacted URL, e.g. "mysql://iot:***@db:3306/iot".
  virtual std::string describe() const = 0;
};

// Connects without migrating. error_kind::connect when the database cannot be
// reached, saying why ("connection refused", "access denied", "unknown
// host", "unknown database", ...); usage for a bad URL; io when a SQLite file
// cannot be opened.
result<std::unique_ptr<store>> open_store(const store_url& url);
result<std::unique_ptr<store>> open_store(std::string_view url_text);

// Creates the MySQL database named in the URL when it does not exist yet
// (db-init does this); returns whether it created it. SQLite: nothing to do
// (the file is created on open), returns false.
result<bool> create_database_if_missing(const store_url& url);

}  // namespace iotxmpp
