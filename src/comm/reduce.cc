// reduce.cc — element-wise sums for the host collectives.
//
// The loops are plain indexed loops over contiguous memory with the divisor case split out, so
// GCC/Clang vectorize them at -O3. They are memory-bound: a segment of received data is summed
// once, while it is still in cache from the receive.
#include "reduce.h"

#include <cstdint>

#include "roost/comm/float16.h"
#include "roost/core/error.h"

namespace roost::comm::detail {
namespace {

// Each entry point is compiled twice, for AVX2 and for the baseline x86-64 (SSE2), and the
// loader picks one for the CPU at hand: the float16/bfloat16 conversions are several integer
// operations per element and run about three times faster on 256-bit vectors, while a
// portable build must still run on any x86-64.
#if defined(__x86_64__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define ROOST_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#endif
#endif
#ifndef ROOST_VECTOR_CLONES
#define ROOST_VECTOR_CLONES
#endif
// The kernels below are forced inline into each clone, so they are compiled for its target.
#if defined(__GNUC__)
#define ROOST_KERNEL __attribute__((always_inline)) inline
#else
#define ROOST_KERNEL inline
#endif

// The kernels take restrict pointers, so the compiler vectorizes them without run-time overlap
// checks (which, for out == a, would send the loop down its scalar fallback). Accumulating in
// place is the common case and gets its own loop: `io` is read and written, `b` only read.
template <typename T>
ROOST_KERNEL void sum_native(T* __restrict io, const T* __restrict b, size_t n, int divisor) {
  if (divisor == 1) {
    for (size_t i = 0; i < n; ++i) io[i] = io[i] + b[i];
  } else {
    // Division (not multiplication by 1/divisor) keeps the average correctly rounded.
    const T d = static_cast<T>(divisor);
    for (size_t i = 0; i < n; ++i) io[i] = (io[i] + b[i]) / d;
  }
}

template <typename T>
ROOST_KERNEL void sum_native(T* __restrict out, const T* __restrict a, const T* __restrict b, size_t n, int divisor) {
  if (divisor == 1) {
    for (size_t i = 0; i < n; ++i) out[i] = a[i] + b[i];
  } else {
    const T d = static_cast<T>(divisor);
    for (size_t i = 0; i < n; ++i) out[i] = (a[i] + b[i]) / d;
  }
}

template <float (*Widen)(uint16_t), uint16_t (*Narrow)(float)>
ROOST_KERNEL void sum_16(uint16_t* __restrict io, const uint16_t* __restrict b, size_t n, int divisor) {
  if (divisor == 1) {
    for (size_t i = 0; i < n; ++i) io[i] = Narrow(Widen(io[i]) + Widen(b[i]));
  } else {
    const float d = static_cast<float>(divisor);
    for (size_t i = 0; i < n; ++i) io[i] = Narrow((Widen(io[i]) + Widen(b[i])) / d);
  }
}

template <float (*Widen)(uint16_t), uint16_t (*Narrow)(float)>
ROOST_KERNEL void sum_16(uint16_t* __restrict out, const uint16_t* __restrict a, const uint16_t* __restrict b, size_t n,
                         int divisor) {
  if (divisor == 1) {
    for (size_t i = 0; i < n; ++i) out[i] = Narrow(Widen(a[i]) + Widen(b[i]));
  } else {
    const float d = static_cast<float>(divisor);
    for (size_t i = 0; i < n; ++i) out[i] = Narrow((Widen(a[i]) + Widen(b[i])) / d);
  }
}

template <typename T>
ROOST_KERNEL void native(void* out, const void* a, const void* b, size_t n, int divisor) {
  if (out == a) sum_native(static_cast<T*>(out), static_cast<const T*>(b), n, divisor);
  else sum_native(static_cast<T*>(out), static_cast<const T*>(a), static_cast<const T*>(b), n, divisor);
}

template <float (*Widen)(uint16_t), uint16_t (*Narrow)(float)>
ROOST_KERNEL void half(void* out, const void* a, const void* b, size_t n, int divisor) {
  auto* o = static_cast<uint16_t*>(out);
  auto* y = static_cast<const uint16_t*>(b);
  if (out == a) sum_16<Widen, Narrow>(o, y, n, divisor);
  else sum_16<Widen, Narrow>(o, static_cast<const uint16_t*>(a), y, n, divisor);
}

ROOST_VECTOR_CLONES void sum_f32(void* out, const void* a, const void* b, size_t n, int d) {
  native<float>(out, a, b, n, d);
}
ROOST_VECTOR_CLONES void sum_f64(void* out, const void* a, const void* b, size_t n, int d) {
  native<double>(out, a, b, n, d);
}
ROOST_VECTOR_CLONES void sum_f16(void* out, const void* a, const void* b, size_t n, int d) {
  half<half_to_float, float_to_half>(out, a, b, n, d);
}
ROOST_VECTOR_CLONES void sum_bf16(void* out, const void* a, const void* b, size_t n, int d) {
  half<bfloat16_to_float, float_to_bfloat16>(out, a, b, n, d);
}

}  // namespace

bool reduction_supported(DType type, ReduceOp op) {
  if (op == ReduceOp::kSum) return true;
  return type == DType::kFloat32 || type == DType::kFloat64 || type == DType::kFloat16 || type == DType::kBFloat16;
}

void reduce_sum(DType type, void* out, const void* a, const void* b, size_t count, int divisor) {
  switch (type) {
    case DType::kFloat32: return sum_f32(out, a, b, count, divisor);
    case DType::kFloat64: return sum_f64(out, a, b, count, divisor);
    case DType::kFloat16: return sum_f16(out, a, b, count, divisor);
    case DType::kBFloat16: return sum_bf16(out, a, b, count, divisor);
    case DType::kInt64:
      ROOST_CHECK(divisor == 1, "int64 average is not defined");
      return native<int64_t>(out, a, b, count, 1);
    case DType::kUInt8:
      ROOST_CHECK(divisor == 1, "uint8 average is not defined");
      return native<uint8_t>(out, a, b, count, 1);
  }
  ROOST_THROW("reduction of unknown dtype ", static_cast<int>(type));
}

}  // namespace roost::comm::detail
