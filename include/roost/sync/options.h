// roost/sync/options.h — the gradient synchronizer's settings and their defaults, written
// once here: TrainConfig's defaults and `roost train --help` take them from this struct.
// No torch, no MPI, so the configuration code can include it.
#pragma once

#include <string>

namespace roost::sync {

struct SyncOptions {
  double fusion_threshold_mb = 128;  // Horovod's default fusion buffer size
  double cycle_time_ms = 1;          // background thread's negotiation period
  bool fp16_allreduce = false;       // send float32 gradients as float16
  int backward_passes_per_step = 1;  // micro-batches accumulated before one allreduce
  double stall_warning_s = 60;
  double stall_shutdown_s = 0;
  std::string timeline_path;  // Chrome trace; empty = in memory only
};

}  // namespace roost::sync
