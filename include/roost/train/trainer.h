// roost/train/trainer.h — the data-parallel training loop behind `roost train`.
#pragma once

#include <mpi.h>

#include <cstdint>

#include "roost/comm/communicator.h"
#include "roost/core/gpu.h"
#include "roost/train/config.h"

namespace roost::train {

// What the process brings to training: its communicator and where it runs.
struct TrainContext {
  comm::Communicator* host_comm = nullptr;  // MPI over host memory
  MPI_Comm mpi_comm = MPI_COMM_NULL;        // bootstrap for NCCL
  int local_rank = 0;
  int local_size = 1;
  DeviceChoice device;
};

struct TrainResult {
  int epochs = 0;
  double best_val_acc = 0;
  double final_val_acc = 0;
  uint32_t params_crc32 = 0;  // fingerprint of the final parameters on this rank
};

// Checks the data dir (both splits, class folders, matching classes) before MPI starts,
// so bad input is one clean error on every rank. Throws UsageError.
void preflight(const TrainConfig& config);

// Runs the whole job; rank 0 writes metrics.jsonl and model.h5 into config.output_dir.
TrainResult run_training(const TrainConfig& config, const TrainContext& context);

}  // namespace roost::train
