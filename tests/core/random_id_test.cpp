#include "core/base/random_id.hpp"

#include <gtest/gtest.h>

#include <set>

namespace iotxmpp {
namespace {

TEST(RandomId, HexHasTheLengthAskedAndOnlyLowercaseHexDigits) {
  for (std::size_t n : {0u, 1u, 8u, 16u, 17u, 32u, 100u}) {
    std::string id = random_hex(n);
    EXPECT_EQ(id.size(), n);
    EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
  }
}

TEST(RandomId, IdsDoNotRepeat) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(seen.insert(random_hex(16)).second);
  std::set<std::uint64_t> words;
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(words.insert(random_u64()).second);
}

TEST(RandomId, EveryDigitPositionVaries) {
  // Beyond 16 digits a second word is drawn: no position is stuck.
  std::string first = random_hex(40);
  std::string differs(40, '.');
  for (int i = 0; i < 64; ++i) {
    std::string next = random_hex(40);
    for (std::size_t p = 0; p < 40; ++p)
      if (next[p] != first[p]) differs[p] = 'x';
  }
  EXPECT_EQ(differs, std::string(40, 'x'));
}

}  // namespace
}  // namespace iotxmpp
