// step_parts.h — pieces of the eager training step that the graph step reuses (internal to
// roost_train).
#pragma once

#include <torch/torch.h>

#include <utility>

namespace roost::train {

struct RunParts;

// Forward and loss under autocast; the loss is float32 whatever the autocast type.
std::pair<torch::Tensor, torch::Tensor> forward_loss(RunParts& run, const torch::Tensor& inputs,
                                                     const torch::Tensor& labels);

}  // namespace roost::train
