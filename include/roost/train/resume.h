// roost/train/resume.h — between live training objects and checkpoints: what rank 0 puts
// into a checkpoint, and how a checkpoint found by rank 0 reaches every rank (by broadcast,
// so other nodes need not see rank 0's disk).
#pragma once

#include "roost/train/schedule.h"
#include <string>
#include <vector>

#include "roost/comm/communicator.h"
#include "roost/model/resnet.h"
#include "roost/train/checkpoint.h"
#include "roost/train/config.h"
#include "roost/train/sgd.h"

namespace roost::train {

// The training state restored from a checkpoint (all ranks hold the same values; history
// and partial sums only matter on rank 0, which writes metrics).
struct ResumePoint {
  bool resumed = false;
  std::string path;
  std::string run_id;  // the checkpoint's run ("" when written before runs had ids); rank 0
  int epochs_done = 0, step = 0;
  int64_t positions_done = 0;  // of the interrupted epoch's sample order, by all ranks (sampler.h)
  int written_by = 0;          // the world size that wrote the checkpoint
  int written_batch = 0;       // and each of its ranks' batch
  BatchPlan batch;             // this run's batch per rank and lr factor (plan_batch)
  double best_val_acc = -1;
  double loss_scale = 1;
  int loss_scale_clean_steps = 0;
  EpochSums partial;
  std::vector<EpochRecord> history;
  std::vector<torch::Tensor> momentum;  // CPU, one per trainable parameter (undefined: none yet)
};

// Rank 0 resolves --resume (auto: newest valid checkpoint in output_dir/checkpoints, skipping
// corrupt ones with a warning; a file: that one, which must verify) and copies it into `net`
// (on the CPU, before the model is broadcast); every rank then receives the scalars and the
// momentum buffers of `trainable` (the optimizer's parameters, in order). Throws UsageError
// on every rank for an explicit file that is missing or corrupt, a checkpoint written for
// another model, arch or class list, or (when `expected_run_id` is set: the run recorded in
// output_dir) a checkpoint of another run.
ResumePoint resume_training(const TrainConfig& config, const std::string& expected_run_id,
                            const std::vector<std::string>& classes, model::ResNet& net,
                            const std::vector<torch::Tensor>& trainable, comm::Communicator& comm);

// Puts the resume point's momentum buffers into `optimizer`, on its parameters' devices.
void restore_momentum(Sgd& optimizer, const std::vector<torch::Tensor>& params,
                      const std::vector<torch::Tensor>& buffers);

// Options that differ between the config a checkpoint was written with and this run's
// (ignoring epochs, resume and how progress is shown, which a continued run may change), as "name (was X, now Y)".
std::vector<std::string> changed_options(const std::string& checkpoint_config_json, const TrainConfig& now);

}  // namespace roost::train
