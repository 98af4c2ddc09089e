// reduce.h — the element-wise reduction kernels the host collectives run on received data.
// Internal to roost_comm.
#pragma once

#include <cstddef>

#include "roost/comm/communicator.h"

namespace roost::comm::detail {

// out[i] = (a[i] + b[i]) / divisor for i < count. `out` may be `a` (in-place accumulation);
// otherwise no two of the buffers overlap, and `b` never overlaps `out`.
// divisor 1 means a plain sum. 16-bit floats are added (and divided) in float32 and rounded
// back to nearest even once, so a chunk's final step rounds only one time.
// Integer types support only divisor 1 (averages of integers are not defined).
void reduce_sum(DType type, void* out, const void* a, const void* b, size_t count, int divisor);

// Whether `op` is defined for `type` (average needs a floating-point type).
bool reduction_supported(DType type, ReduceOp op);

}  // namespace roost::comm::detail
