#include "core/store/store_metrics.hpp"

namespace iotxmpp {
namespace {

std::vector<double> batch_buckets() {
  return {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000};
}

}  // namespace

const store_metric_set& store_metrics() {
  auto& r = metrics::global();
  static const store_metric_set m{
      .commit_seconds = r.add_histogram(
          "iotxmpp_store_commit_seconds",
          "Time the store took to apply and commit one transaction of the writer (the "
          "attempt that committed)",
          metrics::latency_buckets()),
      .batch_items = r.add_histogram("iotxmpp_store_batch_items",
                                     "Items (reports, presences, ...) per committed transaction",
                                     batch_buckets()),
      .committed_items = r.add_counter("iotxmpp_store_committed_items_total",
                                       "Items whose transaction the store writer committed"),
      .outages = r.add_counter(
          "iotxmpp_database_outages_total",
          "Times the store writer found the database unavailable (each outage once, however "
          "long it lasts)"),
      .retries = r.add_counter("iotxmpp_database_retries_total",
                               "Failed store writer attempts that were retried after a back-off "
                               "(connects included)"),
      .deadlocks = r.add_counter(
          "iotxmpp_database_deadlocks_total",
          "MySQL error 1213 (a deadlock, or a Galera certification failure) seen; the writer "
          "retries the transaction"),
      .reports_refused_by_store = r.add_counter("iotxmpp_reports_refused_total",
                                                reports_refused_help, {{"reason", "store"}}),
  };
  return m;
}

}  // namespace iotxmpp
