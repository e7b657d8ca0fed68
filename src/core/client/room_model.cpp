#include "core/client/room_model.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <numbers>

#include "core/iot/sensordata.hpp"

namespace iotxmpp {
namespace {

// Real offsets, ordered so that even a handful of rooms lands far apart.
constexpr std::array zone_offsets{
    60,   -300, 540,  0,   -480, 330,  120, -180, 600,  -360, 480, 180,
    -600, 780,  -420, 345, 240,  -210, 570, 420,  -240, 720,  210, -540,
};

// Exact discretisation of an Ornstein-Uhlenbeck step: any dt keeps the
// stationary spread `sigma`, so a long gap between samples is no problem.
double wander(double x, double dt_s, double tau_s, double sigma, double gaussian) {
  double decay = std::exp(-dt_s / tau_s);
  return x * decay + sigma * std::sqrt(1 - decay * decay) * gaussian;
}

// Moves an actuator setting towards `wanted` with time constant tau_s.
double approach(double current, double wanted, double dt_s, double tau_s) {
  return current + (wanted - current) * (1 - std::exp(-dt_s / tau_s));
}

// Rounds to tenths as the nearest double to the decimal, so that it is
// written back as "44.4", not "44.400000000000006".
double round_to_tenths(double x) { return std::round(x * 10) / 10; }

constexpr double noise_tau_temperature = 3600, noise_sigma_temperature = 0.4;
constexpr double noise_tau_humidity = 7200, noise_sigma_humidity = 3;
constexpr double noise_tau_cloud = 3 * 3600, noise_sigma_cloud = 0.25;
constexpr double heating_tau = 600, max_heating = 12;        // °C either way
constexpr double humidifier_tau = 900, max_humidifier = 40;  // percent points
constexpr double light_tau = 60;                             // lamps and blinds are quick
constexpr double min_blinds = 0.1;
constexpr double humidity_per_celsius = 2;  // warmer air, drier room
constexpr double sunrise_hour = 6.5, sunset_hour = 18.5, evening_lamps_hour = 18;

}  // namespace

int room_zone_offset(std::size_t index) {
  return zone_offsets[(index == 0 ? 0 : index - 1) % zone_offsets.size()];
}

std::string room_name(std::size_t index) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "room-%04zu", index);
  return buffer;
}

room_model::room_model(std::string name, int offset_minutes, std::uint64_t seed)
    : name_(std::move(name)), offset_minutes_(offset_minutes), rng_state_(seed) {
  auto uniform = [this](double lo, double hi) { return lo + (hi - lo) * next_uniform(); };
  comfort_celsius_ = uniform(17, 24);
  swing_celsius_ = uniform(1.5, 4);
  base_humidity_ = uniform(35, 60);
  window_lux_ = uniform(300, 1500);
  lamp_lux_ = uniform(400, 700);
  bedtime_hour_ = uniform(22.5, 24.5);
}

// splitmix64, then Box-Muller for the gaussians: the same numbers on every
// platform, which the std distributions do not promise.
double room_model::next_uniform() {
  std::uint64_t z = (rng_state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  return static_cast<double>((z >> 11) + 1) * 0x1.0p-53;  // (0, 1]
}

double room_model::next_gaussian() {
  double u1 = next_uniform(), u2 = next_uniform();
  return std::sqrt(-2 * std::log(u1)) * std::cos(2 * std::numbers::pi * u2);
}

double room_model::natural_temperature(double local_hour) const {
  // Warmest at 15:00, coolest at 03:00 local time.
  return comfort_celsius_ +
         swing_celsius_ * std::cos(2 * std::numbers::pi * (local_hour - 15) / 24) +
         temperature_noise_;
}

double room_model::daylight(double local_hour) const {
  if (local_hour <= sunrise_hour || local_hour >= sunset_hour) return 0;
  double sun =
      std::sin(std::numbers::pi * (local_hour - sunrise_hour) / (sunset_hour - sunrise_hour));
  double clouds = std::clamp(0.75 + cloud_, 0.2, 1.0);
  return window_lux_ * sun * clouds;
}

bool room_model::lamps_on_naturally(double local_hour) const {
  // Evening from 18:00 until bedtime, which may fall after midnight.
  if (local_hour >= evening_lamps_hour) return local_hour < bedtime_hour_;
  return local_hour + 24 < bedtime_hour_;
}

room_reading room_model::sample(sys_micros now) {
  double dt_s = 0;
  if (!started_) {
    started_ = true;
    temperature_noise_ = noise_sigma_temperature * next_gaussian();
    humidity_noise_ = noise_sigma_humidity * next_gaussian();
    cloud_ = noise_sigma_cloud * next_gaussian();
    last_ = now;
  } else if (now > last_) {
    dt_s = std::chrono::duration<double>(now - last_).count();
    last_ = now;
  } else {
    now = last_;  // the room's clock never runs backwards
  }
  if (dt_s > 0) {
    temperature_noise_ = wander(temperature_noise_, dt_s, noise_tau_temperature,
                                noise_sigma_temperature, next_gaussian());
    humidity_noise_ =
        wander(humidity_noise_, dt_s, noise_tau_humidity, noise_sigma_humidity, next_gaussian());
    cloud_ = wander(cloud_, dt_s, noise_tau_cloud, noise_sigma_cloud, next_gaussian());
  }

  auto local_us =
      now.time_since_epoch().count() + static_cast<std::int64_t>(offset_minutes_) * 60'000'000;
  constexpr std::int64_t day_us = 86'400'000'000;
  double local_hour = static_cast<double>(((local_us % day_us) + day_us) % day_us) / 3.6e9;

  double natural_t = natural_temperature(local_hour);
  if (temperature_goal_.active) {
    heating_celsius_ = std::clamp(
        approach(heating_celsius_, temperature_goal_.value - natural_t, dt_s, heating_tau),
        -max_heating, max_heating);
  }
  double temperature = natural_t + heating_celsius_;

  double natural_h =
      base_humidity_ - humidity_per_celsius * (temperature - comfort_celsius_) + humidity_noise_;
  if (humidity_goal_.active) {
    humidifier_ =
        std::clamp(approach(humidifier_, humidity_goal_.value - natural_h, dt_s, humidifier_tau),
                   -max_humidifier, max_humidifier);
  }
  double humidity = natural_h + humidifier_;

  double day = daylight(local_hour);
  double lamps = lamps_ >= 0 ? lamps_ : (lamps_on_naturally(local_hour) ? 1.0 : 0.0);
  if (brightness_goal_.active) {
    // Daylight first: dim it with the blinds when it is too much, add lamps
    // when it is too little.
    double want = brightness_goal_.value;
    double wanted_blinds = day > want ? std::max(min_blinds, want / day) : 1.0;
    double wanted_lamps = day > want ? 0.0 : std::clamp((want - day) / lamp_lux_, 0.0, 1.0);
    blinds_ = approach(blinds_, wanted_blinds, dt_s, light_tau);
    lamps_ = lamps = approach(lamps, wanted_lamps, dt_s, light_tau);
  }
  double brightness = day * blinds_ + lamps * lamp_lux_;

  // Sensor noise on top of the room's own wandering.
  temperature += 0.05 * next_gaussian();
  humidity += 0.3 * next_gaussian();
  brightness *= 1 + 0.01 * next_gaussian();

  return {std::clamp(round_to_tenths(temperature), room_min_celsius, room_max_celsius),
          std::clamp(round_to_tenths(humidity), room_min_humidity, room_max_humidity),
          std::clamp(std::round(brightness), room_min_lux, room_max_lux)};
}

status_report room_model::report(sys_micros now) {
  room_reading r = sample(now);
  status_report s;
  s.room = name_;
  s.taken_at = {now, offset_minutes_};
  for (auto [name, value] :
       {std::pair{"temperature", r.temperature}, std::pair{"humidity", r.humidity},
        std::pair{"brightness", r.brightness}})
    s.values.push_back({name, value, std::string(default_unit(name))});
  return s;
}

void room_model::steer(const recommendation& r) {
  if (r.room != name_) return;
  for (const auto& t : r.targets) {
    if (t.action != "raise" && t.action != "lower" && t.action != "hold") continue;
    goal* g = t.name == "temperature"  ? &temperature_goal_
              : t.name == "humidity"   ? &humidity_goal_
              : t.name == "brightness" ? &brightness_goal_
                                       : nullptr;
    if (g) *g = {true, t.value};
  }
}

}  // namespace iotxmpp
