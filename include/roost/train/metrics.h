// roost/train/metrics.h — per-epoch metrics: accumulated on each rank, summed across ranks
// so the values are exact global averages, and appended by rank 0 to metrics.jsonl/.csv.
#pragma once

#include <string>
#include <vector>

#include "roost/comm/communicator.h"

namespace roost::train {

// Sums every rank contributes; reduced with one allreduce of doubles.
struct EpochSums {
  double train_loss_sum = 0, train_correct = 0, train_count = 0;
  double val_loss_sum = 0, val_correct = 0, val_count = 0;
  double skipped = 0;
  double data_wait_s = 0, allreduce_s = 0, sync_wait_s = 0;  // summed over ranks, reported as the mean

  void allreduce(comm::Communicator& comm);
  // The sums as a flat array (checkpoints) and back.
  static constexpr int kCount = 10;
  std::vector<double> to_values() const;
  static EpochSums from_values(const std::vector<double>& values);
  // "training" or "validation" when none of that pass's images could be read although its
  // split holds some (the global sums of an epoch whose figures would be zeros), else null.
  const char* unreadable_pass(int64_t train_size, int64_t val_size) const;
};

struct EpochRecord {
  int epoch = 0;
  double train_loss = 0, train_acc = 0, val_loss = 0, val_acc = 0;
  double lr = 0, momentum = 0, best_val_acc = 0;
  double images_per_sec = 0, epoch_time_s = 0, data_wait_s = 0, allreduce_s = 0, sync_wait_s = 0;
  int64_t skipped_images = 0;
  int world_size = 1;

  static EpochRecord from(const EpochSums& sums, int world_size);
  std::string to_json() const;
  // Every field as a number, in a fixed order (checkpoints keep the history this way).
  static constexpr int kFieldCount = 16;
  std::vector<double> to_values() const;
  static EpochRecord from_values(const double* values);
};

// Appends one line per epoch to dir/metrics.jsonl and dir/metrics.csv (header once); every
// row carries the run's id (run_identity.h), so rows of two runs can never pass for one.
class MetricsWriter {
 public:
  MetricsWriter(std::string dir, std::string run_id);
  void append(const EpochRecord& record);
  // Replaces both files with exactly these rows (atomically): a resumed run drops rows of
  // epochs after its checkpoint.
  void rewrite(const std::vector<EpochRecord>& records);

 private:
  std::string json_row(const EpochRecord& r) const;
  std::string csv_row(const EpochRecord& r) const;
  std::string dir_, run_id_;
};

}  // namespace roost::train
