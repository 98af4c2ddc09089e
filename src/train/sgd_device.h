// sgd_device.h — the state behind Sgd's fused GPU step (internal to roost_step): the kernel's
// plans, cached by the tensors they describe, and the learning rate as a device float.
//
// A plan holds device pointers, so it is rebuilt when any pointer changes: on the first step
// (new momentum buffers) and whenever backward hands over gradients at other addresses. The
// caching allocator gives a model's gradients the same addresses step after step, so a few
// plans serve a whole run; a captured graph's gradients never move.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "roost/kernels/fused_sgd.h"

namespace roost::train::detail {

struct DeviceSgd {
  torch::Tensor lr;  // one float32 on the parameters' device, read by every fused step
  double lr_written = 0;
  using Plans = std::vector<std::pair<std::vector<kernels::SgdTensor>, std::unique_ptr<kernels::FusedSgdPlan>>>;
  Plans plans;
  // Plans a captured graph may launch (step_on_device's): never evicted, since a replay reads
  // their tables long after the capture.
  Plans pinned;

  // The plan for exactly these tensors, built (its tables uploaded on `stream`) when none is
  // cached; `pin`: kept for the optimizer's life.
  const kernels::FusedSgdPlan& plan(const std::vector<kernels::SgdTensor>& tensors, void* stream, bool pin = false);
  // Writes `value` into `lr` (on torch's current stream) unless it holds it already.
  void set_lr(double value, const torch::Device& device);
};

// Why `p` (with its gradient and momentum buffer `buf`, which may be undefined) cannot be
// stepped by the fused kernel on `device`; "" when it can (given kernels::fused_sgd_available()).
std::string device_obstacle(const torch::Tensor& p, const torch::Tensor& buf, const torch::Device& device);

}  // namespace roost::train::detail
