// kernels/fused_sgd_math.h — one element of torch.optim.SGD's step in float32 math, shared by
// the fused CUDA kernel (fused_sgd.cu) and its host reference (the unit tests), so that both
// round alike. No CUDA headers: under nvcc the functions are __host__ __device__.
//
// Order of operations, as roost's host loop (src/train/sgd_kernel.cc) and libtorch's kernels:
//   g = g * inv_scale (only with loss scaling; rounded to float, as GradScaler's unscale_)
//   d = fma(p, weight_decay, g)                      (only with weight decay)
//   buf = first ? d : fma(d, 1 - dampening, buf * momentum (rounded))
//   d = nesterov ? fma(buf, momentum, d) : buf       (only with momentum)
//   p = fma(d, -lr, p), then one rounding to the parameter's type (bf16/fp16: nearest even).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#include "host_device.h"

namespace roost::kernels::sgd_math {

// The step's scalars, as libtorch turns its double arguments into the float kernel's.
struct Coefficients {
  float lr = 0, momentum = 0, keep = 1, weight_decay = 0;  // keep = float(1 - dampening)
  bool nesterov = false;
};

// a * b rounded on its own: never contracted into a neighbouring fused multiply-add.
ROOST_HD float mul_rn(float a, float b) {
#ifdef __CUDA_ARCH__
  return __fmul_rn(a, b);
#else
  return a * b;
#endif
}

// p's new value (float) for gradient g (already unscaled); `buf` is read and written only
// with momentum; `first`: the buffer starts this step (torch's clone of d_p).
ROOST_HD float update(float p, float g, float& buf, bool first, const Coefficients& c) {
  float d = c.weight_decay != 0 ? fmaf(p, c.weight_decay, g) : g;
  if (c.momentum != 0) {
    const float b = first ? d : fmaf(d, c.keep, mul_rn(buf, c.momentum));
    buf = b;
    d = c.nesterov ? fmaf(b, c.momentum, d) : b;
  }
  return fmaf(d, -c.lr, p);
}

ROOST_HD uint32_t float_bits(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  return u;
}

ROOST_HD float bits_float(uint32_t u) {
  float f;
  memcpy(&f, &u, 4);
  return f;
}

ROOST_HD float bf16_to_float(uint16_t h) { return bits_float(static_cast<uint32_t>(h) << 16); }

// Round to nearest even, as torch's c10::BFloat16 (NaN stays a quiet NaN).
ROOST_HD uint16_t float_to_bf16(float f) {
  const uint32_t u = float_bits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return 0x7fc0;
  return static_cast<uint16_t>((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

ROOST_HD float fp16_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16, exponent = (h >> 10) & 31u, mantissa = h & 1023u;
  if (exponent == 31) return bits_float(sign | 0x7f800000u | (mantissa << 13));
  if (exponent != 0) return bits_float(sign | ((exponent + 112) << 23) | (mantissa << 13));
  const float magnitude = static_cast<float>(mantissa) * 5.9604644775390625e-08f;  // 2^-24, exact
  return sign ? -magnitude : magnitude;
}

// Round to nearest even, with fp16's subnormals, overflow to infinity and NaN kept.
ROOST_HD uint16_t float_to_fp16(float f) {
  const uint32_t u = float_bits(f), sign = (u >> 16) & 0x8000u, a = u & 0x7fffffffu;
  if (a > 0x7f800000u) return static_cast<uint16_t>(sign | 0x7e00u);
  if (a >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // rounds past 65504
  if (a < 0x38800000u) {  // below 2^-14: a subnormal (or zero), in units of 2^-24
    // 2^-24 * round(|f| / 2^-24): adding 0.5 (a power of two the mantissa ends at) rounds
    // to nearest even in float arithmetic itself.
    const float scaled = bits_float(a) + 0.5f;
    return static_cast<uint16_t>(sign | (float_bits(scaled) - 0x3f000000u));
  }
  const uint32_t rounded = a + 0xfffu + ((a >> 13) & 1u);
  return static_cast<uint16_t>(sign | ((rounded - 0x38000000u) >> 13));
}

}  // namespace roost::kernels::sgd_math
