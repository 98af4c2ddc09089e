// roost/sync/grad_arena.h — host memory for a step's averaged gradients, kept from one step
// to the next.
//
// Why: the averaged gradients of a step become the parameters' .grad, and the optimizer
// releases them after its step (set_to_none). A fresh fusion buffer per step is large
// (ResNet-18's gradients are 44.7 MB), so the allocator maps it from the kernel and unmaps it
// when released: every step then pays one page fault per 4 KiB page while the allreduce
// writes its result, about a tenth of a 2-core machine's time at 64 px. The arena keeps one
// block per element type, hands out consecutive slices during a step, and starts over at the
// next step, once nobody holds the previous step's gradients any more (else it leaves the
// old block to its holders and allocates a new one).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <map>

namespace roost::sync {

class GradientArena {
 public:
  // Elements of `options`' type on the host for one fused group of this step.
  torch::Tensor take(int64_t numel, const torch::TensorOptions& options);
  // The next take() starts a new step.
  void next_step() { new_step_ = true; }
  // Blocks allocated so far (a test's and a benchmark's view of reuse).
  int64_t allocations() const { return allocations_; }

 private:
  struct Block {
    torch::Tensor data;  // 1-D; slices of its storage are this step's gradients
    int64_t used = 0;    // elements handed out this step
    int64_t wanted = 0;  // elements asked for this step, including what did not fit
  };
  std::map<c10::ScalarType, Block> blocks_;
  bool new_step_ = true;
  int64_t allocations_ = 0;
};

}  // namespace roost::sync
