// roost/train/config.h — everything `roost train` can be told, in one struct filled by the CLI.
// Defaults are the reference recipe: ResNet-18, SGD lr 0.001 momentum 0.9, StepLR(7, 0.1),
// 25 epochs, batch 4 per rank, RandomResizedCrop(224) / Resize(256)+CenterCrop(224).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "roost/sync/options.h"

namespace roost::train {

inline constexpr int kAutoWorkers = -1;

struct TrainConfig {
  // data
  std::string data_dir;  // ImageFolder root with train/ and val/
  std::string output_dir = "outputs";
  int image_size = 224;
  int resize_short = 256;  // validation Resize(); the CLI defaults it to round(image_size * 256/224)
  double crop_scale_lo = 0.08, crop_scale_hi = 1.0;
  double crop_ratio_lo = 3.0 / 4.0, crop_ratio_hi = 4.0 / 3.0;
  int workers = kAutoWorkers;          // decode threads per rank; kAutoWorkers: from the rank's cores
  std::string jpeg_dct_scale = "off";  // off|on: decode JPEGs at 1/2..1/8 scale when the crop allows (dct_scale.h)
  // model
  std::string arch = "resnet18";
  bool zero_init_residual = false;
  std::string pretrained;        // .pth (torchvision) or .h5 (roost) weights to start from
  bool freeze_backbone = false;  // train only fc; the backbone's BatchNorms stay in eval mode
  bool sync_bn = false;          // BatchNorm statistics over the global batch (all ranks)
  // optimisation
  int epochs = 25;
  int batch_size = 4;  // per rank
  double lr = 0.001;
  double momentum = 0.9;
  double weight_decay = 0.0;
  bool nesterov = false;
  int lr_step = 7;
  double lr_gamma = 0.1;
  std::string lr_scaling = "none";  // none|linear: linear multiplies lr by the world size
  // per-rank|global: resumed at another world size, keep each rank's batch (the global batch
  // follows the ranks) or the checkpoint's global batch (each rank's batch becomes global / ranks)
  std::string elastic_batch = "per-rank";
  double warmup_epochs = 0;  // linear ramp to the (scaled) lr over this many epochs
  double label_smoothing = 0;
  uint64_t seed = 42;
  // execution
  int threads = 0;                  // intra-op threads per rank; 0 = cores / ranks on the node
  std::string mpi_yield = "auto";   // auto|on|off: Open MPI yields the CPU while waiting (mpi_yield.h)
  std::string preprocess = "auto";  // auto|cpu|gpu
  std::string amp = "off";          // off|bf16|fp16
  bool channels_last = false;
  std::string cuda_graphs = "auto";  // auto|on|off: the step replayed as a CUDA graph (graph_policy.h)
  int log_every = 10;                // steps between progress lines
  std::string progress = "auto";     // auto (bar on a terminal) | bar | lines | none
  // gradient synchronization
  double fusion_threshold_mb = sync::SyncOptions{}.fusion_threshold_mb;
  double cycle_time_ms = sync::SyncOptions{}.cycle_time_ms;
  bool fp16_allreduce = false;
  std::string prefetch_next_pass = "auto";  // auto|on|off: next_loader.h (auto: on for GPU)
  std::string allreduce_path = "auto";      // auto|ring|shm|hier: the host allreduce (ring_mpi_communicator.h)
  std::string shared_update = "auto";       // auto|off: one node's ranks each step their share (shared_update.h)
  int backward_passes_per_step = sync::SyncOptions{}.backward_passes_per_step;
  double stall_warning_s = sync::SyncOptions{}.stall_warning_s;
  double stall_shutdown_s = sync::SyncOptions{}.stall_shutdown_s;  // 0 = only warn
  std::string timeline;                                            // Chrome-trace file, empty = none
  // checkpoints
  int checkpoint_every = 1;  // epochs between checkpoints; 0 = none (preemption still writes one)
  int keep_checkpoints = 3;  // newest checkpoints kept in output_dir/checkpoints
  std::string resume;        // "", "auto" (newest valid checkpoint in output_dir) or a file
  bool overwrite = false;    // replace another run's outputs in output_dir (run_identity.h)
};

// torchvision's validation ratio: Resize(256) before CenterCrop(224), kept at other sizes.
inline int default_resize_short(int image_size) { return (image_size * 256 + 112) / 224; }

// --workers auto: the decode threads a rank gets from its share of the node's cores. A CPU
// rank's cores also run the model (one worker, or a quarter of them on larger shares); a GPU
// rank's host cores have nothing else to do but decode (all but the training thread).
inline int auto_workers(int cores_per_rank, bool gpu) {
  if (cores_per_rank < 1) cores_per_rank = 1;
  const int n = gpu ? cores_per_rank - 1 : cores_per_rank / 4;
  return n < 1 ? 1 : n > 16 ? 16 : n;
}

// The gradient synchronizer's options of a run (rank 0 alone writes the timeline).
sync::SyncOptions sync_options(const TrainConfig& config, int rank);

// Upper bounds of the per-rank thread options: far above any machine's cores, low enough
// that a typo cannot ask the OS for a hundred thousand threads.
inline constexpr int kMaxWorkers = 256;
inline constexpr int kMaxThreads = 1024;

// The options as (name, JSON value) pairs, in a fixed order: rendered into summaries and
// compared across ranks and against a checkpoint's config.
std::vector<std::pair<std::string, std::string>> config_entries(const TrainConfig& config);

// Checks ranges and combinations; throws UsageError naming the first bad option.
void validate(const TrainConfig& config);

// One line per option, for summaries and logs: key=value pairs in JSON.
std::string to_json(const TrainConfig& config);

}  // namespace roost::train
