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
  bool signals_relayed = false;  // SIGUSR1/SIGUSR2 stand for SIGTERM/SIGINT (preemption.h)
};

struct TrainResult {
  int epochs = 0;
  double best_val_acc = 0;
  double final_val_acc = 0;
  uint32_t params_crc32 = 0;  // fingerprint of the final parameters on this rank
  int stopped_by_signal = 0;  // SIGTERM/SIGINT that ended the run early (checkpoint written), else 0
};

// Checks the data dir (both splits, class folders, matching classes) before MPI starts,
// so bad input is one clean error on every rank. Throws UsageError.
void preflight(const TrainConfig& config);

// Runs the whole job (or continues it, with --resume); rank 0 writes metrics, weights,
// checkpoints and summary.json into config.output_dir. On SIGTERM/SIGINT every rank stops
// after the same step, rank 0 writes a checkpoint, and the result says which signal.
TrainResult run_training(const TrainConfig& config, const TrainContext& context);

}  // namespace roost::train
