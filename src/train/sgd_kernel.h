// sgd_kernel.h — torch.optim.SGD's update of one float32 parameter in a single pass over
// memory (internal to roost_step; no torch headers).
//
// libtorch's multi-tensor kernels run the update as three passes on the host (buf *= m;
// buf += (1 - d) * g; p -= lr * buf), eight arrays' worth of memory traffic per element
// where one fused loop needs five; on the 2-core development machine ResNet-18's step took a
// sixth of the training time at 64 px. The loop computes what libtorch's AVX2 kernels
// compute, rounding for rounding (each "a + alpha * b" as one fused multiply-add, the
// momentum product rounded on its own), so parameters stay bitwise those of torch::optim::SGD.
#pragma once

#include <cstdint>

namespace roost::train::detail {

// As libtorch turns its double arguments into the float kernel's scalars.
struct SgdCoefficients {
  float lr = 0, momentum = 0, keep = 1, weight_decay = 0;  // keep = float(1 - dampening)
  bool nesterov = false;
};

// Whether this CPU has the instructions the fused loop is built for (AVX2 and FMA).
bool fused_sgd_available();

// Elements [0, n) of one parameter `p`, its gradient `g` and momentum buffer `buf` (unused
// without momentum; `first` = the buffer starts this step, as torch's clone of d_p).
// Call only where fused_sgd_available().
void fused_sgd(float* p, const float* g, float* buf, int64_t n, bool first, const SgdCoefficients& c);

}  // namespace roost::train::detail
