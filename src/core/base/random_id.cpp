#include "core/base/random_id.hpp"

#include <random>

namespace iotxmpp {
namespace {

std::random_device& source() {
  // One per thread: random_device is not safe to share, and opening it per
  // call would cost a file descriptor or a syscall each time.
  thread_local std::random_device device;
  return device;
}

}  // namespace

std::uint64_t random_u64() {
  static_assert(sizeof(std::random_device::result_type) == 4);
  std::random_device& d = source();
  return (std::uint64_t{d()} << 32) | d();
}

std::string random_hex(std::size_t digits) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out(digits, '0');
  std::uint64_t bits = 0;
  for (std::size_t i = 0; i < digits; ++i, bits >>= 4) {
    if (i % 16 == 0) bits = random_u64();
    out[i] = hex[bits & 0xF];
  }
  return out;
}

}  // namespace iotxmpp
