#pragma once
// Random identifiers (stream ids, generated resources, report ids, run ids)
// and seeds, from one source: the system's random device (the kernel's CSPRNG
// on Linux), so an id is unpredictable, not merely unique.

#include <cstddef>
#include <cstdint>
#include <string>

namespace iotxmpp {

// 64 fresh random bits. Thread-safe (one random_device per thread).
std::uint64_t random_u64();

// `digits` lowercase hexadecimal digits of fresh random bits ("3f09a1c2" for
// 8): 4 bits of entropy each. Thread-safe.
std::string random_hex(std::size_t digits);

}  // namespace iotxmpp
