// roost/train/train_step.h — one training step on one batch: forward and backward (or this
// rank's empty share of the step), the gradients averaged over ranks, the optimizer update.
#pragma once

#include <torch/torch.h>

#include <cstdint>

#include "roost/data/loader.h"
#include "roost/train/run_parts.h"

namespace roost::train {

// An epoch's running training sums, kept on the device: reading them makes the host wait
// for the GPU and stops it from queueing the next step, so they are read only when shown.
struct DeviceSums {
  DeviceSums(double loss_sum, double correct, torch::Device device);
  torch::Tensor loss_sum;  // float64: Σ per-image loss
  torch::Tensor correct;   // float64: images classified right
  int64_t images = 0;      // images trained on by this rank in this process
};

struct StepPlace {
  int epoch = 0;
  int step = 0;   // 0-based, within the epoch
  int steps = 1;  // the epoch's steps
};

// Returns true when the step's gradients were averaged and applied (false on the earlier
// micro-batches of gradient accumulation): the moment to agree on signals.
bool train_step(RunParts& run, data::Batch& batch, const StepPlace& at, DeviceSums& sums);

}  // namespace roost::train
