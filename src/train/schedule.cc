// roost/train/schedule.cc — StepLR with linear scaling and warmup (see schedule.h).
#include "roost/train/schedule.h"

#include <algorithm>
#include <cmath>

#include "roost/core/error.h"

namespace roost::train {

BatchPlan plan_batch(const TrainConfig& c, int world, int written_by, int written_batch) {
  BatchPlan plan{c.batch_size, static_cast<double>(world), ""};
  if (written_by <= 0) return plan;
  const int64_t written_global = int64_t{written_batch} * written_by;
  if (c.elastic_batch != "global") {
    if (written_by != world)
      plan.note = "the global batch is now " + std::to_string(int64_t{c.batch_size} * world) + " (was " +
                  std::to_string(written_global) + ") with --elastic-batch per-rank";
    return plan;
  }
  ROOST_USAGE_CHECK(written_global % world == 0, "--elastic-batch global: the checkpoint's global batch ",
                    written_global, " (", written_by, " × ", written_batch, ") does not split evenly over ", world,
                    " ranks");
  plan.per_rank = static_cast<int>(written_global / world);
  plan.lr_factor = static_cast<double>(written_global) / c.batch_size;
  if (plan.per_rank != c.batch_size || written_by != world)
    plan.note = "each rank's batch is now " + std::to_string(plan.per_rank) + " (the global batch " +
                std::to_string(written_global) + " is kept; --elastic-batch global)";
  return plan;
}

LrSchedule::LrSchedule(const TrainConfig& c, double lr_factor)
    : base_(c.lr),
      peak_(c.lr_scaling == "linear" ? c.lr * lr_factor : c.lr),
      gamma_(c.lr_gamma),
      warmup_epochs_(c.warmup_epochs),
      lr_step_(c.lr_step),
      scaled_(c.lr_scaling == "linear" && lr_factor != 1) {}

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
