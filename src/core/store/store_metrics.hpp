#pragma once
// The store's metrics (core/base/metrics.hpp), in the process's registry:
// what the writer and the MySQL store count. Made on first use; the server
// makes them at start so that every series shows from the first scrape.

#include "core/base/metrics.hpp"

namespace iotxmpp {

struct store_metric_set {
  metrics::histogram& commit_seconds;  // a committing transaction's apply()
  metrics::histogram& batch_items;     // items per committed transaction
  metrics::counter& committed_items;
  metrics::counter& outages;    // the database became unavailable to the writer
  metrics::counter& retries;    // failed writer attempts retried (connects included)
  metrics::counter& deadlocks;  // MySQL error 1213: deadlock or Galera certification failure
  metrics::counter& reports_refused_by_store;  // iotxmpp_reports_refused_total{reason="store"}
};

const store_metric_set& store_metrics();

// The help text of iotxmpp_reports_refused_total, whose other reasons the
// server counts.
inline constexpr const char* reports_refused_help =
    "Status reports refused, by reason: malformed (not valid XEP-0323), forbidden (no grant "
    "for the room), store (the database refused the write)";

}  // namespace iotxmpp
