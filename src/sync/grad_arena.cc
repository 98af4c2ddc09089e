// roost/sync/grad_arena.cc — reused host blocks for the averaged gradients.
#include "roost/sync/grad_arena.h"

#include <algorithm>

namespace roost::sync {

torch::Tensor GradientArena::take(int64_t numel, const torch::TensorOptions& options) {
  if (new_step_) {
    for (auto& [type, block] : blocks_) {
      block.wanted = std::max(block.wanted, block.used);
      // Reusable when the block alone holds its storage: last step's .grad were released.
      const bool held = block.data.defined() && block.data.storage().use_count() > 1;
      if (held || (block.data.defined() && block.data.numel() < block.wanted)) block.data = torch::Tensor();
      block.used = 0;
    }
    new_step_ = false;
  }
  const auto host = options.device(torch::kCPU);
  Block& block = blocks_[options.dtype().toScalarType()];
  if (!block.data.defined() && block.used == 0 && block.wanted > 0) {
    block.data = torch::empty({block.wanted}, host);
    ++allocations_;
  }
  const int64_t start = block.used;
  block.used += numel;
  if (block.data.defined() && block.used <= block.data.numel()) return block.data.narrow(0, start, numel);
  // The first step, or more than any step before: a buffer of its own until next step.
  return torch::empty({numel}, host);
}

}  // namespace roost::sync
