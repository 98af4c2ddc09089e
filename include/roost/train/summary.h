// roost/train/summary.h — output_dir/summary.json: one file that says what a run was
// (config, ranks, devices, library versions), how it ended and its final and best metrics.
#pragma once

#include <string>
#include <vector>

#include "roost/train/config.h"
#include "roost/train/metrics.h"

namespace roost::train {

struct RunSummary {
  std::string status;  // "completed" or "stopped by SIGTERM" …
  std::string run_id;  // run_identity.h
  int world_size = 1;
  std::string device;  // rank 0's device name
  std::string gradient_backend;
  bool shared_update = false;  // the ranks of a node each stepped their share (shared_update.h)
  std::string resumed_from;    // checkpoint path, "" for a fresh start
  double wall_time_s = 0;      // this process's run (a resumed run counts from its restart)
  std::vector<EpochRecord> history;
  std::string class_counts_json;  // the last epoch's images read per class (class_counts.h)
};

// The JSON text (tests parse it); write_summary writes it atomically.
std::string summary_json(const TrainConfig& config, const RunSummary& summary);
void write_summary(const std::string& path, const TrainConfig& config, const RunSummary& summary);

}  // namespace roost::train
