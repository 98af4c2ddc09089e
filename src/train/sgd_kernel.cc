// sgd_kernel.cc — the fused SGD loop (see sgd_kernel.h), AVX2 + FMA with a scalar tail.
#include "sgd_kernel.h"

#include <immintrin.h>

#include <cmath>

namespace roost::train::detail {

namespace {

// One element, in libtorch's order of operations:
//   d_p = g + wd * p;  buf = buf * m (rounded), buf = buf + (1 - d) * d_p  (first step: d_p);
//   d_p = nesterov ? d_p + m * buf : buf;  p = p + (-lr) * d_p
__attribute__((target("avx2,fma"))) inline void update_one(float& p, float g, float* buf, bool first,
                                                           const SgdCoefficients& c) {
  float d = c.weight_decay != 0 ? std::fmaf(p, c.weight_decay, g) : g;
  if (c.momentum != 0) {
    const float b = first ? d : std::fmaf(d, c.keep, *buf * c.momentum);
    *buf = b;
    d = c.nesterov ? std::fmaf(b, c.momentum, d) : b;
  }
  p = std::fmaf(d, -c.lr, p);
}

template <bool kDecay, bool kMomentum, bool kNesterov>
__attribute__((target("avx2,fma"))) void loop(float* p, const float* g, float* buf, int64_t n, bool first,
                                              const SgdCoefficients& c) {
  const __m256 wd = _mm256_set1_ps(c.weight_decay), m = _mm256_set1_ps(c.momentum), keep = _mm256_set1_ps(c.keep),
               step = _mm256_set1_ps(-c.lr);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 pv = _mm256_loadu_ps(p + i);
    __m256 d = _mm256_loadu_ps(g + i);
    if constexpr (kDecay) d = _mm256_fmadd_ps(pv, wd, d);
    if constexpr (kMomentum) {
      __m256 b = first ? d : _mm256_fmadd_ps(d, keep, _mm256_mul_ps(_mm256_loadu_ps(buf + i), m));
      _mm256_storeu_ps(buf + i, b);
      d = kNesterov ? _mm256_fmadd_ps(b, m, d) : b;
    }
    _mm256_storeu_ps(p + i, _mm256_fmadd_ps(d, step, pv));
  }
  for (; i < n; ++i) update_one(p[i], g[i], kMomentum ? buf + i : nullptr, first, c);
}

}  // namespace

bool fused_sgd_available() {
  static const bool ok = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return ok;
}

void fused_sgd(float* p, const float* g, float* buf, int64_t n, bool first, const SgdCoefficients& c) {
  const bool decay = c.weight_decay != 0, momentum = c.momentum != 0;
  if (!momentum) {
    decay ? loop<true, false, false>(p, g, buf, n, first, c) : loop<false, false, false>(p, g, buf, n, first, c);
  } else if (c.nesterov) {
    decay ? loop<true, true, true>(p, g, buf, n, first, c) : loop<false, true, true>(p, g, buf, n, first, c);
  } else {
    decay ? loop<true, true, false>(p, g, buf, n, first, c) : loop<false, true, false>(p, g, buf, n, first, c);
  }
}

}  // namespace roost::train::detail
