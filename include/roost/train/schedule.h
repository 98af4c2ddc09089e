// roost/train/schedule.h — the learning rate at every step: StepLR (decay by gamma every
// lr_step epochs, stepped after each epoch as torch.optim.lr_scheduler.StepLR is), optional
// linear scaling with the world size (Horovod practice: the global batch grows with the
// ranks, so does the rate) and a linear warmup.
//
// Warmup ramps per step over the first warmup_epochs: with --lr-scaling linear from the
// single-rank lr to lr × world (Horovod's LearningRateWarmupCallback); without scaling from
// lr / (warmup steps) up to lr. After warmup the rate is the peak times StepLR's decay.
#pragma once

#include "roost/train/config.h"

namespace roost::train {

class LrSchedule {
 public:
  LrSchedule(const TrainConfig& config, int world_size);

  // Rate for step `step` (0-based) of `steps_per_epoch` in epoch `epoch` (0-based).
  double at(int epoch, int step, int steps_per_epoch) const;
  double peak() const { return peak_; }

 private:
  double base_, peak_, gamma_, warmup_epochs_;
  int lr_step_;
  bool scaled_;
};

}  // namespace roost::train
