#pragma once
// Another connection to a server's SQLite file, for tests that hold the
// store writer the way a real second writer would: BEGIN EXCLUSIVE takes the
// database's write lock, so the server's writer cannot commit (it waits in
// SQLite's busy handler, then retries) until release(). Also reads the
// stored report ids, to check "stored exactly once" row by row.

#include <string>
#include <string_view>
#include <vector>

struct sqlite3;

namespace iotxmpp::test {

class sqlite_lock {
 public:
  // `url` is a store URL (sqlite:PATH) or a plain path. Opens a connection;
  // takes no lock yet. Throws when the file cannot be opened.
  explicit sqlite_lock(std::string_view url);
  ~sqlite_lock();  // releases a lock still held
  sqlite_lock(const sqlite_lock&) = delete;
  sqlite_lock& operator=(const sqlite_lock&) = delete;

  // BEGIN EXCLUSIVE: waits (up to 30 s) for a transaction in progress to
  // end, then holds the write lock. Throws when it cannot be had.
  void hold();
  // COMMIT (nothing was written): the writer may go on. Idempotent.
  void release();
  bool held() const { return held_; }

 private:
  sqlite3* db_ = nullptr;
  bool held_ = false;
};

// The stanza ids of every row in `readings` (NULL ids left out), each as
// often as it is stored, read with a connection of their own.
std::vector<std::string> stored_report_ids(std::string_view url);

}  // namespace iotxmpp::test
