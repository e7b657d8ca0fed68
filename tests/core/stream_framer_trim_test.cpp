// stream_framer::trim(): what an idle session calls between reads.

#include <gtest/gtest.h>

#include <string>

#include "core/xml/stream_framer.hpp"
#include "support/framer_events.hpp"

namespace iotxmpp::test {
namespace {

TEST(StreamFramerTrim, IdleTrimFreesTheBufferAndFramingGoesOn) {
  stream_framer framer;
  // Fed by hand: frame_chunks trims after every chunk itself.
  ASSERT_EQ(framer.feed(client_header).what, stream_framer::status::stream_open);
  const std::string first = status_report(1);
  ASSERT_EQ(framer.feed(first).what, stream_framer::status::element);
  EXPECT_GT(framer.buffered_capacity(), 0u);
  framer.trim();
  EXPECT_EQ(framer.buffered_capacity(), 0u);
  EXPECT_TRUE(framer.parked());
  events got = frame_chunks(framer, {status_report(2), "</stream:stream>"});
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].rfind("element ", 0), 0u) << got[0];
  EXPECT_NE(got[0].find("seqnr=\"2\""), std::string::npos) << got[0];
  EXPECT_EQ(got[1], "close");
}

TEST(StreamFramerTrim, TrimInsideAnElementKeepsItsBytes) {
  const std::string report = status_report(7);
  const std::size_t half = report.size() / 2;
  stream_framer framer;
  events got = frame_chunks(framer, {client_header, std::string_view(report).substr(0, half)});
  ASSERT_EQ(got.size(), 1u);
  const std::size_t before = framer.buffered_capacity();
  framer.trim();
  EXPECT_EQ(framer.buffered_capacity(), before);
  got = frame_chunks(framer, {std::string_view(report).substr(half)});
  ASSERT_EQ(got.size(), 1u);
  EXPECT_NE(got[0].find("seqnr=\"7\""), std::string::npos) << got[0];
}

}  // namespace
}  // namespace iotxmpp::test
