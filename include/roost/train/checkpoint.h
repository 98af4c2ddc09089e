// roost/train/checkpoint.h — training checkpoints: everything a run needs to continue
// exactly where it stopped (parameters and BN buffers, momentum buffers, loss scale, RNG,
// epoch and step within it, the partial sums of an interrupted epoch, the metric history
// and the config), in one HDF5 file with a CRC-32 over all of it.
//
// Files are output_dir/checkpoints/epoch-K.h5 after epoch K, or epoch-K-step-S.h5 for a
// run stopped S steps into epoch K+1. They are written atomically (temporary file, fsync,
// rename), so a crash leaves the previous checkpoint intact.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "roost/model/state_dict.h"
#include "roost/train/metrics.h"

namespace roost::train {

struct Checkpoint {
  model::NamedTensors model;            // state dict (parameters and buffers)
  std::vector<torch::Tensor> momentum;  // SGD momentum buffers by parameter index (undefined: none yet)
  torch::Tensor rng;                    // torch's CPU generator state
  int epochs_done = 0;                  // completed epochs
  int step = 0;                         // steps done in epoch epochs_done + 1 (0 = at a boundary)
  int world_size = 1;
  // Positions of the interrupted epoch's sample order trained by all ranks together
  // (data/sampler.h): what a resume at any world size continues from. -1 in checkpoints that
  // predate it (then step × batch size × world_size).
  int64_t positions_done = -1;
  double best_val_acc = -1;
  double loss_scale = 1;
  int loss_scale_clean_steps = 0;
  EpochSums partial;                 // this rank's sums of the interrupted epoch (step > 0)
  std::vector<EpochRecord> history;  // metrics of the completed epochs
  std::string config_json;
  // Which run wrote it and what it classifies (run_identity.h); empty in checkpoints
  // written before runs had ids.
  std::string run_id, arch;
  std::vector<std::string> class_names;
};

// File name for a checkpoint at (epochs_done, step) inside `dir`.
std::string checkpoint_path(const std::string& dir, int epochs_done, int step);

void save_checkpoint(const std::string& path, const Checkpoint& checkpoint);

// Reads and verifies a checkpoint; throws roost::Error naming the file and what is wrong
// (not HDF5, not a checkpoint, checksum mismatch, missing entries).
Checkpoint load_checkpoint(const std::string& path);

// The newest checkpoint in `dir` that verifies, by (epochs_done, step); corrupt or
// truncated newer ones are reported through `skipped` (one line each). Empty if none.
std::string find_latest_checkpoint(const std::string& dir, std::vector<std::string>* skipped);

// Deletes all but the newest `keep` checkpoints in `dir`, and any temporary file a write
// that was cut short (a killed process) left there.
void prune_checkpoints(const std::string& dir, int keep);

}  // namespace roost::train
