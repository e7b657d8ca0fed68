#pragma once
// The two clocks the code reads: the wall clock (what timestamps are written
// in, microseconds since the Unix epoch, UTC) and the steady clock (what
// timeouts and durations are measured with: it never jumps).

#include <chrono>

namespace iotxmpp {

// An instant on the wall clock, in microseconds (the precision the store keeps).
using sys_micros = std::chrono::sys_time<std::chrono::microseconds>;

// An instant on the steady clock.
using steady_time = std::chrono::steady_clock::time_point;

// The functions live in namespace clock (clock::wall_now()): the name says
// which clock at every call.
namespace clock {

// The wall clock now, truncated to microseconds. Thread-safe.
inline sys_micros wall_now() {
  return std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
}

// The steady clock now. Thread-safe.
inline steady_time steady_now() { return std::chrono::steady_clock::now(); }

// The wall-clock instant of a past steady-clock instant `t`: now on the wall
// clock less the steady time elapsed since `t`. Exact unless the wall clock was
// set in between (it is then off by that step).
inline sys_micros wall_time_of(steady_time t) {
  return wall_now() - std::chrono::duration_cast<std::chrono::microseconds>(steady_now() - t);
}

// Milliseconds (fractional) elapsed on the steady clock since `start`.
inline double milliseconds_since(steady_time start) {
  return std::chrono::duration<double, std::milli>(steady_now() - start).count();
}

}  // namespace clock

}  // namespace iotxmpp
