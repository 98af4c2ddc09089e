// roost/train/schedule.h — the learning rate at every step: StepLR (decay by gamma every
// lr_step epochs, stepped after each epoch as torch.optim.lr_scheduler.StepLR is), optional
// linear scaling with the world size (Horovod practice: the global batch grows with the
// ranks, so does the rate) and a linear warmup.
//
// Warmup ramps per step over the first warmup_epochs: with --lr-scaling linear from the
// single-rank lr to lr × world (Horovod's LearningRateWarmupCallback); without scaling from
// lr / (warmup steps) up to lr. After warmup the rate is the peak times StepLR's decay.
#pragma once

#include <string>

#include "roost/train/config.h"

namespace roost::train {

// Each rank's batch and linear scaling's lr factor for a run of `world` ranks that resumed a
// checkpoint written by `written_by` ranks at `written_batch` images each (written_by 0: a
// fresh start). --elastic-batch per-rank: --batch-size and the world size. global: the
// checkpoint's global batch is kept, so each rank takes global / world (UsageError when it
// does not divide) and the lr factor stays global / --batch-size, that of the run which chose
// the global batch. `note` says what changed ("" when nothing did).
struct BatchPlan {
  int per_rank = 0;
  double lr_factor = 1;
  std::string note;
};
BatchPlan plan_batch(const TrainConfig& config, int world, int written_by, int written_batch);

class LrSchedule {
 public:
  // lr_factor: what --lr-scaling linear multiplies lr by (the world size, or BatchPlan's).
  LrSchedule(const TrainConfig& config, double lr_factor);

  // Rate for step `step` (0-based) of `steps_per_epoch` in epoch `epoch` (0-based).
  double at(int epoch, int step, int steps_per_epoch) const;
  double peak() const { return peak_; }

 private:
  double base_, peak_, gamma_, warmup_epochs_;
  int lr_step_;
  bool scaled_;
};

}  // namespace roost::train
