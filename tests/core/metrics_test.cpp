// The metrics registry (core/base/metrics.hpp): the text exposition format
// 0.0.4 exactly as Prometheus parses it, escaping, cumulative histogram
// buckets, callbacks that come and go, and counts that add up across threads.

#include "core/base/metrics.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <thread>

namespace iotxmpp::metrics {
namespace {

TEST(MetricsRegistry, RendersFamiliesSortedWithHelpTypeAndLabels) {
  registry r;
  auto& b = r.add_counter("b_events_total", "Events of b");
  auto& up = r.add_gauge("a_up", "Whether a is up", {{"node", "n1"}});
  r.add_gauge("a_up", "ignored: the first help stays", {{"node", "n2"}}).set(0.5);
  b.add();
  b.add(41);
  up.set(1);
  EXPECT_EQ(r.render(),
            "# HELP a_up Whether a is up\n"
            "# TYPE a_up gauge\n"
            "a_up{node=\"n1\"} 1\n"
            "a_up{node=\"n2\"} 0.5\n"
            "# HELP b_events_total Events of b\n"
            "# TYPE b_events_total counter\n"
            "b_events_total 42\n");
}

TEST(MetricsRegistry, SameNameAndLabelsIsTheSameMetric) {
  registry r;
  auto& one = r.add_counter("x_total", "X", {{"k", "v"}});
  auto& two = r.add_counter("x_total", "X", {{"k", "v"}});
  EXPECT_EQ(&one, &two);
  EXPECT_NE(&one, &r.add_counter("x_total", "X", {{"k", "w"}}));
  EXPECT_THROW(r.add_gauge("x_total", "X"), std::logic_error) << "one family, one type";
  EXPECT_THROW(r.add_counter("0bad", "X"), std::logic_error);
  EXPECT_THROW(r.add_counter("y_total", "Y", {{"__reserved", "v"}}), std::logic_error);
  EXPECT_THROW(r.add_histogram("h", "H", {1}, {{"le", "2"}}), std::logic_error);
}

TEST(MetricsRegistry, EscapesHelpAndLabelValues) {
  registry r;
  r.add_gauge("g", "a \\ and\na line", {{"path", "C:\\dir \"quoted\"\nnext"}}).set(2);
  EXPECT_EQ(r.render(),
            "# HELP g a \\\\ and\\na line\n"
            "# TYPE g gauge\n"
            "g{path=\"C:\\\\dir \\\"quoted\\\"\\nnext\"} 2\n");
}

TEST(MetricsRegistry, HistogramBucketsAreCumulativeWithSumAndCount) {
  registry r;
  auto& h = r.add_histogram("lat_seconds", "Latency", {0.1, 0.5, 1}, {{"op", "w"}});
  for (double v : {0.0625, 0.1, 0.25, 0.75, 2.0}) h.observe(v);
  EXPECT_EQ(r.render(),
            "# HELP lat_seconds Latency\n"
            "# TYPE lat_seconds histogram\n"
            "lat_seconds_bucket{op=\"w\",le=\"0.1\"} 2\n"  // le is inclusive
            "lat_seconds_bucket{op=\"w\",le=\"0.5\"} 3\n"
            "lat_seconds_bucket{op=\"w\",le=\"1\"} 4\n"
            "lat_seconds_bucket{op=\"w\",le=\"+Inf\"} 5\n"
            "lat_seconds_sum{op=\"w\"} 3.1625\n"
            "lat_seconds_count{op=\"w\"} 5\n");
  EXPECT_THROW(histogram({1, 1}), std::logic_error);
  EXPECT_THROW(histogram({2, 1}), std::logic_error);
  EXPECT_THROW(histogram({1, std::numeric_limits<double>::infinity()}), std::logic_error);
}

TEST(MetricsRegistry, ValuesInPrometheusNotation) {
  EXPECT_EQ(format_value(0), "0");
  EXPECT_EQ(format_value(1), "1");
  EXPECT_EQ(format_value(0.25), "0.25");
  EXPECT_EQ(format_value(-3.5), "-3.5");
  EXPECT_EQ(format_value(0.0001), "0.0001");
  EXPECT_EQ(format_value(50000), "50000");
  EXPECT_EQ(format_value(1e21), "1e+21");
  EXPECT_EQ(format_value(1e-9), "1e-09");
  EXPECT_EQ(format_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(format_value(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(format_value(std::nan("")), "NaN");
  // Shortest round trip: what is written reads back exactly.
  EXPECT_EQ(std::stod(format_value(0.1 + 0.2)), 0.1 + 0.2);
}

TEST(MetricsRegistry, CallbacksAreReadAtRenderUntilTheirHandleGoes) {
  registry r;
  double depth = 7;
  {
    auto first = r.add_callback("q_items", "Queue", kind::gauge, {}, [&] { return depth; });
    EXPECT_NE(r.render().find("\nq_items 7\n"), std::string::npos);
    depth = 9;
    EXPECT_NE(r.render().find("\nq_items 9\n"), std::string::npos);
    {
      // A second server in the process: the latest callback is read.
      auto second = r.add_callback("q_items", "Queue", kind::gauge, {}, [] { return 1.0; });
      EXPECT_NE(r.render().find("\nq_items 1\n"), std::string::npos);
    }
    EXPECT_NE(r.render().find("\nq_items 9\n"), std::string::npos);
    callback_handle moved = std::move(first);
    EXPECT_NE(r.render().find("\nq_items 9\n"), std::string::npos) << "a move keeps it";
  }
  EXPECT_EQ(r.render(), "") << "no member left: no HELP or TYPE either";
}

TEST(MetricsRegistry, CountsFromManyThreadsAddUp) {
  registry r;
  auto& c = r.add_counter("n_total", "N");
  auto& g = r.add_gauge("live", "Live");
  auto& h = r.add_histogram("v", "V", {10});
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 100000; ++i) {
        c.add();
        g.add(1);
        g.add(-1);
        h.observe(i % 20);
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.value(), 800000u);
  EXPECT_EQ(g.value(), 0);
  auto reading = h.read();
  EXPECT_EQ(reading.cumulative[0], 8u * 55000);  // 0..10 of every 20
  EXPECT_EQ(reading.cumulative[1], 800000u);
}

TEST(MetricsRegistry, TheGlobalRegistryIsOne) { EXPECT_EQ(&global(), &global()); }

}  // namespace
}  // namespace iotxmpp::metrics
