#include "core/iot/rules.hpp"

#include <algorithm>
#include <cmath>

#include "core/model/datetime.hpp"

namespace iotxmpp {

rules::rules(std::vector<period_rule> periods) : periods_(std::move(periods)) {
  std::sort(periods_.begin(), periods_.end(),
            [](const auto& a, const auto& b) { return a.start_minute < b.start_minute; });
}

rules rules::defaults() {
  auto period = [](std::string name, int hour, double celsius, double lux, double lux_tolerance) {
    return period_rule{std::move(name),
                       hour * 60,
                       {{"temperature", celsius, 1, "°C"},
                        {"humidity", 45, 10, "%"},
                        {"brightness", lux, lux_tolerance, "lx"}}};
  };
  return rules({period("night", 22, 18, 0, 20), period("morning", 6, 21, 300, 100),
                period("day", 9, 21, 500, 150), period("evening", 18, 21, 200, 100)});
}

const period_rule& rules::period_at(int minute_of_day) const {
  int minute = ((minute_of_day % 1440) + 1440) % 1440;
  // The first period starting after `minute`; the one before it is in force.
  auto next = std::upper_bound(periods_.begin(), periods_.end(), minute,
                               [](int m, const period_rule& p) { return m < p.start_minute; });
  return next == periods_.begin() ? periods_.back() : *(next - 1);
}

namespace {

std::string action_for(const quantity_rule& q, const status_report* latest) {
  auto reading = latest ? latest->value_of(q.name) : std::nullopt;
  if (!reading) return "unknown";
  // 19.9 against 21±1.1 differs by 1.1000000000000014 in binary: the slack
  // keeps such decimal boundary readings at "hold", as a person would expect.
  double slack = 1e-9 * std::max({1.0, std::abs(q.target), std::abs(*reading)});
  double difference = *reading - q.target;
  if (std::abs(difference) <= q.tolerance + slack) return "hold";
  return difference < 0 ? "raise" : "lower";
}

}  // namespace

recommendation rules::recommend(std::string_view room, std::string_view asker,
                                const status_report* latest, sys_micros now,
                                int server_offset_minutes) const {
  recommendation r;
  r.room = room;
  r.asked_by = asker;
  r.at = {now, latest ? latest->taken_at.offset_minutes : server_offset_minutes};
  const period_rule& period = period_at(local_minute_of_day(r.at));
  r.period = period.name;
  for (const auto& q : period.quantities)
    r.targets.push_back({q.name, q.target, q.unit, action_for(q, latest)});
  return r;
}

}  // namespace iotxmpp
