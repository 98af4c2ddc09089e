// comm_test_util.h — inputs and float64 references for allreduce tests, shared by the thread
// backend's unit tests and the MPI tests (which include it as ../unit/comm_test_util.h).
//
// Each rank's input is a pure function of (seed, rank, index), so every rank can compute the
// expected sum of all ranks' inputs locally. Inputs lie in [-0.75, 1.25), are never all zero,
// and are exactly representable in the dtype under test, so the reference is the exact sum and
// the only error allowed is the ring's own rounding, bounded per element below.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "roost/comm/communicator.h"
#include "roost/comm/float16.h"

namespace roost::testing {

inline uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// Rank `rank`'s element i, rounded to `type` and returned as double.
inline double input_value(comm::DType type, uint64_t seed, int rank, size_t i) {
  const uint64_t h = splitmix64(seed * 0x100000001b3ull ^ (uint64_t(rank) << 40) ^ i);
  const double u = static_cast<double>(h >> 11) * 0x1p-53 * 2.0 - 0.75;  // [-0.75, 1.25)
  switch (type) {
    case comm::DType::kFloat32: return static_cast<float>(u);
    case comm::DType::kFloat64: return u;
    case comm::DType::kFloat16: return comm::half_to_float(comm::float_to_half(static_cast<float>(u)));
    case comm::DType::kBFloat16: return comm::bfloat16_to_float(comm::float_to_bfloat16(static_cast<float>(u)));
    case comm::DType::kInt64: return static_cast<double>(static_cast<int64_t>(h % 2001) - 1000);
    case comm::DType::kUInt8: return static_cast<double>(h % 256);
  }
  return 0;
}

// Element i of a buffer of `type`, as double.
inline double element(comm::DType type, const void* data, size_t i) {
  const char* p = static_cast<const char*>(data) + i * comm::dtype_size(type);
  switch (type) {
    case comm::DType::kFloat32: {
      float v;
      std::memcpy(&v, p, 4);
      return v;
    }
    case comm::DType::kFloat64: {
      double v;
      std::memcpy(&v, p, 8);
      return v;
    }
    case comm::DType::kFloat16: {
      uint16_t v;
      std::memcpy(&v, p, 2);
      return comm::half_to_float(v);
    }
    case comm::DType::kBFloat16: {
      uint16_t v;
      std::memcpy(&v, p, 2);
      return comm::bfloat16_to_float(v);
    }
    case comm::DType::kInt64: {
      int64_t v;
      std::memcpy(&v, p, 8);
      return static_cast<double>(v);
    }
    case comm::DType::kUInt8: return static_cast<uint8_t>(*p);
  }
  return 0;
}

// The buffer rank `rank` passes to allreduce.
inline std::vector<char> make_input(comm::DType type, uint64_t seed, int rank, size_t count) {
  std::vector<char> buf(count * comm::dtype_size(type));
  for (size_t i = 0; i < count; ++i) {
    const double v = input_value(type, seed, rank, i);
    char* p = buf.data() + i * comm::dtype_size(type);
    switch (type) {
      case comm::DType::kFloat32: {
        float f = static_cast<float>(v);
        std::memcpy(p, &f, 4);
        break;
      }
      case comm::DType::kFloat64: std::memcpy(p, &v, 8); break;
      case comm::DType::kFloat16: {
        const uint16_t h = comm::float_to_half(static_cast<float>(v));
        std::memcpy(p, &h, 2);
        break;
      }
      case comm::DType::kBFloat16: {
        const uint16_t h = comm::float_to_bfloat16(static_cast<float>(v));
        std::memcpy(p, &h, 2);
        break;
      }
      case comm::DType::kInt64: {
        int64_t x = static_cast<int64_t>(v);
        std::memcpy(p, &x, 8);
        break;
      }
      case comm::DType::kUInt8: *p = static_cast<char>(static_cast<uint8_t>(v)); break;
    }
  }
  return buf;
}

// Unit roundoff of the type the ring rounds to after every addition.
inline double unit_roundoff(comm::DType type) {
  switch (type) {
    case comm::DType::kFloat32: return 0x1p-24;
    case comm::DType::kFloat64: return 0x1p-53;
    case comm::DType::kFloat16: return 0x1p-11;
    case comm::DType::kBFloat16: return 0x1p-8;
    default: return 0;  // integers are exact
  }
}

// Checks an allreduce result of n ranks against the float64 sum of every rank's inputs.
// The tolerance is the textbook bound for n-1 rounded additions, Σ|x|·(n-1)·u, plus one more
// rounding for the average's division (and float32's slack for 16-bit accumulation). Returns
// an empty string when every element is within it, else a description of the first that is not.
inline std::string check_allreduce(comm::DType type, comm::ReduceOp op, uint64_t seed, int n, const void* result,
                                   size_t count) {
  const double u = unit_roundoff(type);
  const double div = op == comm::ReduceOp::kAverage ? n : 1;
  for (size_t i = 0; i < count; ++i) {
    // long double (64-bit mantissa on x86-64) keeps the reference's own rounding far below
    // float64's tolerance; the last term covers it where long double is just double.
    long double sum = 0, abs_sum = 0;
    for (int r = 0; r < n; ++r) {
      const double x = input_value(type, seed, r, i);
      sum += x;
      abs_sum += std::fabs(x);
    }
    double expected = static_cast<double>(sum / div);
    if (type == comm::DType::kUInt8) expected = static_cast<double>(std::fmod(sum, 256.0L));
    const double a = static_cast<double>(abs_sum);
    const double tol = 1.0001 * u * ((n - 1) * a / div + std::fabs(expected)) + (u > 0x1p-24 ? 0x1p-22 * a : 0.0) +
                       a * n * static_cast<double>(std::numeric_limits<long double>::epsilon());
    const double got = element(type, result, i);
    if (!(std::fabs(got - expected) <= tol)) {
      std::ostringstream os;
      os.precision(17);
      os << comm::dtype_name(type) << " " << comm::reduce_op_name(op) << " n=" << n << " count=" << count
         << ": element " << i << " is " << got << ", expected " << expected << " ± " << tol;
      return os.str();
    }
  }
  return "";
}

}  // namespace roost::testing
