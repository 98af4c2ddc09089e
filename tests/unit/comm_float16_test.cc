// comm_float16_test.cc — the hand-written float16/bfloat16 conversions against an independent
// reference built from frexp/nearbyint in double: every 16-bit value round-trips, every tie
// between neighbouring 16-bit values rounds to the even one, and a dense sweep of float bit
// patterns (normals, subnormals, overflow, infinities, NaNs) converts to the nearest value.
#include <gtest/gtest.h>

#include <cfenv>
#include <cmath>
#include <cstdint>

#include "roost/comm/float16.h"

namespace roost {
namespace {

using comm::bfloat16_to_float;
using comm::bits_float;
using comm::float_bits;
using comm::float_to_bfloat16;
using comm::float_to_half;
using comm::half_to_float;

// Round |x| to a format with `mant` stored mantissa bits, exponent bias `bias` and `max_exp`
// (largest unbiased exponent of a finite value), to nearest even, and encode it.
uint16_t reference_encode(float f, int mant, int bias, int max_exp) {
  const uint16_t sign = std::signbit(f) ? static_cast<uint16_t>(0x8000) : 0;
  const uint16_t inf = static_cast<uint16_t>(((2 * bias + 1) << mant));
  if (std::isnan(f)) return 0xffff;  // compared by class only
  const double a = std::fabs(static_cast<double>(f));
  if (std::isinf(f)) return sign | inf;
  if (a == 0) return sign;
  const int min_exp = 1 - bias;
  int e;
  std::frexp(a, &e);
  e -= 1;  // a = 1.m × 2^e
  double m;
  if (e < min_exp) {
    m = std::nearbyint(std::ldexp(a, mant - min_exp));  // subnormal grid 2^(min_exp - mant)
    return sign | static_cast<uint16_t>(m);             // m = 2^mant is the smallest normal, encoded right
  }
  m = std::nearbyint(std::ldexp(a, mant - e));
  if (m == std::ldexp(1.0, mant + 1)) {
    m /= 2;
    e += 1;
  }
  if (e > max_exp) return sign | inf;
  return sign | static_cast<uint16_t>(((e + bias) << mant) | (static_cast<int>(m) - (1 << mant)));
}

uint16_t reference_half(float f) { return reference_encode(f, 10, 15, 15); }
uint16_t reference_bfloat16(float f) { return reference_encode(f, 7, 127, 127); }

bool is_half_nan(uint16_t h) { return (h & 0x7c00) == 0x7c00 && (h & 0x3ff); }
bool is_bf16_nan(uint16_t b) { return (b & 0x7f80) == 0x7f80 && (b & 0x7f); }

TEST(Float16, EveryHalfRoundTripsThroughFloat) {
  ASSERT_EQ(std::fegetround(), FE_TONEAREST);
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float f = half_to_float(static_cast<uint16_t>(h));
    if (is_half_nan(static_cast<uint16_t>(h))) {
      ASSERT_TRUE(std::isnan(f)) << std::hex << h;
      ASSERT_TRUE(is_half_nan(float_to_half(f))) << std::hex << h;
      continue;
    }
    ASSERT_EQ(float_to_half(f), h) << std::hex << h << " -> " << f;
    ASSERT_EQ(reference_half(f), h) << std::hex << h << " (reference)";
  }
  EXPECT_EQ(half_to_float(0x3c00), 1.0f);
  EXPECT_EQ(half_to_float(0x7bff), 65504.0f);
  EXPECT_EQ(half_to_float(0x0001), std::ldexp(1.0f, -24));
  EXPECT_TRUE(std::isinf(half_to_float(0xfc00)) && half_to_float(0xfc00) < 0);
}

TEST(Float16, TiesRoundToEven) {
  // The midpoint between neighbouring halves is a float; it must round to the even neighbour.
  for (uint32_t h = 0; h < 0x7bff; ++h) {
    const double lo = half_to_float(static_cast<uint16_t>(h));
    const double hi = half_to_float(static_cast<uint16_t>(h + 1));
    const float mid = static_cast<float>((lo + hi) / 2);
    ASSERT_EQ(static_cast<double>(mid), (lo + hi) / 2);
    const uint16_t even = (h & 1) ? static_cast<uint16_t>(h + 1) : static_cast<uint16_t>(h);
    ASSERT_EQ(float_to_half(mid), even) << std::hex << h;
    ASSERT_EQ(float_to_half(-mid), even | 0x8000) << std::hex << h;
  }
  EXPECT_EQ(float_to_half(65519.99f), 0x7bff);
  EXPECT_EQ(float_to_half(65520.0f), 0x7c00);  // the tie above the largest half goes to infinity
}

TEST(Float16, FloatSweepMatchesReference) {
  // A prime stride over all 2^32 patterns touches every exponent and many mantissas.
  for (uint64_t u = 0; u < (uint64_t(1) << 32); u += 4099) {
    const float f = bits_float(static_cast<uint32_t>(u));
    const uint16_t got = float_to_half(f), want = reference_half(f);
    if (std::isnan(f)) {
      ASSERT_TRUE(is_half_nan(got)) << std::hex << u;
      continue;
    }
    ASSERT_EQ(got, want) << std::hex << "float bits " << u << " = " << f;
  }
}

TEST(BFloat16, EveryValueRoundTripsAndTiesRoundToEven) {
  for (uint32_t b = 0; b < 0x10000; ++b) {
    const float f = bfloat16_to_float(static_cast<uint16_t>(b));
    ASSERT_EQ(float_bits(f), b << 16);
    if (is_bf16_nan(static_cast<uint16_t>(b))) {
      ASSERT_TRUE(is_bf16_nan(float_to_bfloat16(f)));
      continue;
    }
    ASSERT_EQ(float_to_bfloat16(f), b);
    // the float halfway to the next value up (same sign): round to the even one
    if ((b & 0x7fff) < 0x7f7f) {
      const uint16_t even = (b & 1) ? static_cast<uint16_t>(b + 1) : static_cast<uint16_t>(b);
      ASSERT_EQ(float_to_bfloat16(bits_float((b << 16) | 0x8000)), even) << std::hex << b;
    }
  }
}

TEST(BFloat16, FloatSweepMatchesReference) {
  for (uint64_t u = 0; u < (uint64_t(1) << 32); u += 4099) {
    const float f = bits_float(static_cast<uint32_t>(u));
    const uint16_t got = float_to_bfloat16(f);
    if (std::isnan(f)) {
      ASSERT_TRUE(is_bf16_nan(got)) << std::hex << u;  // never rounds into infinity
      continue;
    }
    ASSERT_EQ(got, reference_bfloat16(f)) << std::hex << "float bits " << u << " = " << f;
  }
}

}  // namespace
}  // namespace roost
