// data_decode_checks_test.cc — jpeg_is_truncated (src/data/decode_checks.h), which finds the
// marker pairs by jumping between FF bytes, decides exactly as the byte-by-byte definition:
// on random buffers dense in FF, DA and D9 bytes, and on the edge cases of the definition.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "../../src/data/decode_checks.h"

namespace roost::data {
namespace {

// The definition: truncated unless some FF D9 follows the last FF DA (which must not be at 0).
bool truncated_by_definition(const std::vector<uint8_t>& b) {
  size_t last_sos = 0;
  for (size_t i = 0; i + 1 < b.size(); ++i)
    if (b[i] == 0xFF && b[i + 1] == 0xDA) last_sos = i;
  if (last_sos == 0) return true;
  for (size_t i = last_sos + 2; i + 1 < b.size(); ++i)
    if (b[i] == 0xFF && b[i + 1] == 0xD9) return false;
  return true;
}

TEST(JpegIsTruncated, AgreesWithTheByteByByteDefinition) {
  std::mt19937 rng(11);
  const uint8_t alphabet[] = {0xFF, 0xDA, 0xD9, 0x00, 0x12};
  int truncated = 0, whole = 0;
  for (int trial = 0; trial < 20000; ++trial) {
    std::vector<uint8_t> b(rng() % 24);
    for (auto& v : b) v = alphabet[rng() % 5];
    const bool want = truncated_by_definition(b);
    ASSERT_EQ(jpeg_is_truncated(b.data(), b.size()), want) << "trial " << trial;
    (want ? truncated : whole) += 1;
  }
  EXPECT_GT(truncated, 1000);  // both answers occur often, so both are tested
  EXPECT_GT(whole, 1000);
}

TEST(JpegIsTruncated, EdgeCases) {
  auto t = [](std::vector<uint8_t> b) { return jpeg_is_truncated(b.data(), b.size()); };
  EXPECT_TRUE(t({}));
  EXPECT_TRUE(t({0xFF}));
  EXPECT_TRUE(t({0xFF, 0xDA, 0xFF, 0xD9}));  // the only SOS at 0 does not count
  EXPECT_FALSE(t({0x00, 0xFF, 0xDA, 0xFF, 0xD9}));
  EXPECT_TRUE(t({0x00, 0xFF, 0xDA, 0xFF}));                     // ends inside a marker
  EXPECT_TRUE(t({0x00, 0xFF, 0xD9, 0xFF, 0xDA}));               // the EOI comes before the last SOS
  EXPECT_FALSE(t({0x00, 0xFF, 0xDA, 0xFF, 0xFF, 0xD9, 0x00}));  // FF FF D9: the second FF starts it
}

}  // namespace
}  // namespace roost::data
