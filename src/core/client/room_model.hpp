#pragma once
// A simulated room: what one `simulate` device measures and controls, as the
// seed's devices "keep track and control the status of rooms". The room lives
// in its own UTC offset and has a plausible day in its local time:
//   - temperature follows a daily curve (coolest before dawn, warmest in the
//     afternoon) plus slowly wandering noise;
//   - humidity moves against the temperature (warm air dries a room) plus noise;
//   - brightness is daylight by local hour (through the blinds) plus lamps
//     switched on in the evening.
// steer() takes the server's recommendation and sets the heating/cooling,
// humidifier and lamps/blinds so that later readings move towards its targets.
// No clock and no I/O: the caller passes the instant of every reading, so the
// model is deterministic for a given seed and sequence of instants.

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/model/model.hpp"

namespace iotxmpp {

// The physical ranges every reading stays within.
inline constexpr double room_min_celsius = 5, room_max_celsius = 40;
inline constexpr double room_min_humidity = 5, room_max_humidity = 95;
inline constexpr double room_min_lux = 0, room_max_lux = 2000;

// One reading of the three quantities, rounded as a sensor reports them
// (0.1 °C, 0.1 %, 1 lx).
struct room_reading {
  double temperature = 0;
  double humidity = 0;
  double brightness = 0;
};

// A real-world UTC offset (minutes) for the index-th simulated room: the
// rooms of a fleet are spread over real zones (UTC-10 to UTC+13, including
// the half- and three-quarter-hour ones).
int room_zone_offset(std::size_t index);

// The conventional name of the index-th room, counting from 1: room-0001.
std::string room_name(std::size_t index);

class room_model {
 public:
  // A room named `name` at UTC offset `offset_minutes`; `seed` fixes its
  // character (comfort level, window size, lamps) and its noise.
  room_model(std::string name, int offset_minutes, std::uint64_t seed);

  const std::string& name() const { return name_; }
  int offset_minutes() const { return offset_minutes_; }

  // Advances the room to `now` and returns what its sensors read then.
  // Instants should not go backwards; one that does is taken as no time
  // passing. The first call starts the room in its natural state.
  room_reading sample(sys_micros now);

  // The status report of a fresh sample at `now`: room, taken_at in the
  // room's offset, and the three values with their units. Ready for
  // write_status_fields; stanza_id and device_jid are left to the caller.
  status_report report(sys_micros now);

  // Takes the targets of a recommendation for this room: each quantity whose
  // action is raise, lower or hold gets its target, and the room's actuators
  // (heating/cooling, humidifier/dehumidifier, lamps and blinds) work
  // towards it from then on, within their power. `unknown` actions and
  // unknown quantity names leave that quantity alone. Takes effect over the
  // following samples, not at once, as a real room would.
  void steer(const recommendation& r);

 private:
  // One target a steer() set, or none.
  struct goal {
    bool active = false;
    double value = 0;
  };

  double next_uniform();  // (0, 1]
  double next_gaussian();
  double natural_temperature(double local_hour) const;
  double daylight(double local_hour) const;
  bool lamps_on_naturally(double local_hour) const;

  std::string name_;
  int offset_minutes_;
  std::uint64_t rng_state_;

  // Character of the room, drawn once from the seed.
  double comfort_celsius_;  // mean temperature
  double swing_celsius_;    // half the daily amplitude
  double base_humidity_;    // humidity at the mean temperature
  double window_lux_;       // daylight at noon with open blinds
  double lamp_lux_;         // lamps at full power
  double bedtime_hour_;     // lamps go off (local hour, past midnight > 24)

  // Slowly wandering noise (Ornstein-Uhlenbeck), one per quantity.
  double temperature_noise_ = 0, humidity_noise_ = 0, cloud_ = 0;

  // Actuators: the offsets they add, and their settings.
  double heating_celsius_ = 0;  // + heating, - cooling
  double humidifier_ = 0;       // + humidifier, - dehumidifier (percent points)
  double blinds_ = 1;           // share of daylight let in, 0.1..1
  double lamps_ = -1;           // lamp power 0..1 set by steering; < 0: natural habit

  goal temperature_goal_, humidity_goal_, brightness_goal_;
  bool started_ = false;
  sys_micros last_{};
};

}  // namespace iotxmpp
