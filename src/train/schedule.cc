// roost/train/schedule.cc — StepLR with linear scaling and warmup (see schedule.h).
#include "roost/train/schedule.h"

#include <algorithm>
#include <cmath>

namespace roost::train {

LrSchedule::LrSchedule(const TrainConfig& c, int world_size)
    : base_(c.lr),
      peak_(c.lr_scaling == "linear" ? c.lr * world_size : c.lr),
      gamma_(c.lr_gamma),
      warmup_epochs_(c.warmup_epochs),
      lr_step_(c.lr_step),
      scaled_(c.lr_scaling == "linear" && world_size > 1) {}

double LrSchedule::at(int epoch, int step, int steps_per_epoch) const {
  const double decay = std::pow(gamma_, epoch / lr_step_);
  steps_per_epoch = std::max(1, steps_per_epoch);
  // Progress counted at the end of this step, so the first step already moves.
  const double t = epoch + static_cast<double>(step + 1) / steps_per_epoch;
  if (warmup_epochs_ <= 0 || t >= warmup_epochs_) return peak_ * decay;
  const double start = scaled_ ? base_ : 0.0;
  return (start + (peak_ - start) * t / warmup_epochs_) * decay;
}

}  // namespace roost::train
