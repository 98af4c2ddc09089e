// roost/comm/float16.h — IEEE binary16 and bfloat16 <-> float32 conversion in portable C++.
//
// 16-bit gradients are reduced on the host by widening to float32, adding, and narrowing back
// with round-to-nearest-even, the rounding CUDA's __float2half_rn / __float2bfloat16_rn use, so
// a host ring and a device ring round alike. No CUDA headers: the values travel as uint16_t.
// The functions are inline and written with bit-mask selects rather than branches so that the
// reduction loops calling them are still vectorized.
#pragma once

#include <cstdint>
#include <cstring>

namespace roost::comm {

inline uint32_t float_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

inline float bits_float(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

// binary16: 1 sign, 5 exponent (bias 15), 10 mantissa bits.
// All-ones when `condition` holds, else zero: selects below are masks, not branches.
inline uint32_t mask_if(bool condition) { return 0u - static_cast<uint32_t>(condition); }
inline uint32_t select(uint32_t mask, uint32_t yes, uint32_t no) { return (yes & mask) | (no & ~mask); }

inline float half_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t magnitude = h & 0x7fffu;
  // Shifting the exponent and mantissa into float position and scaling by 2^(127-15) rebiases
  // normals and, because the multiply renormalizes, subnormals too — exactly, since every half
  // is representable as a float.
  const uint32_t scaled = float_bits(bits_float(magnitude << 13) * 0x1p112f);
  // Inf and NaN keep their mantissa and get the all-ones float exponent instead.
  const uint32_t special = (magnitude << 13) | 0x7f800000u;
  return bits_float(sign | select(mask_if(magnitude >= 0x7c00u), special, scaled));
}

inline uint16_t float_to_half(float f) {
  const uint32_t u = float_bits(f);
  const uint32_t sign = (u >> 16) & 0x8000u;
  const uint32_t a = u & 0x7fffffffu;
  // Normal range: rebias the exponent and round the 13 dropped mantissa bits to nearest even by
  // adding half an ulp minus one plus the kept lowest bit; a carry rolls into the exponent,
  // which is the correct result (up to infinity for the largest values).
  const uint32_t normal = (a - ((127u - 15u) << 23) + 0xfffu + ((a >> 13) & 1u)) >> 13;
  // Below 2^-14 the result is subnormal (ulp 2^-24). Adding 0.5f, whose ulp is 2^-24, makes the
  // FPU round the value to that grid (to nearest even); the mantissa then holds the half bits.
  const uint32_t subnormal = float_bits(bits_float(a) + 0.5f) - 0x3f000000u;
  uint32_t h = select(mask_if(a < 0x38800000u), subnormal, normal);
  // 65520 and above round to infinity (65504 is the largest half; 65520 is the tie, and
  // 65504's mantissa is odd). NaN stays NaN, made quiet.
  h = select(mask_if(a >= 0x477ff000u), 0x7c00u, h);
  h = select(mask_if(a > 0x7f800000u), 0x7e00u | ((a >> 13) & 0x3ffu), h);
  return static_cast<uint16_t>(sign | h);
}

// bfloat16: the upper half of a float32.
inline float bfloat16_to_float(uint16_t b) { return bits_float(static_cast<uint32_t>(b) << 16); }

inline uint16_t float_to_bfloat16(float f) {
  const uint32_t u = float_bits(f);
  const uint32_t rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
  // NaN must not round into infinity: keep its upper bits and set a mantissa bit.
  const uint32_t nan = (u >> 16) | 0x40u;
  return static_cast<uint16_t>(select(mask_if((u & 0x7fffffffu) > 0x7f800000u), nan, rounded));
}

}  // namespace roost::comm
