// roost/train/run_outputs.h — the one owner of a run's files in its outputs directory: its
// identity (run.json), metrics rows, curves, model.h5 / last.h5, checkpoints and
// summary.json. Rank 0 writes; on other ranks every call returns at once, so the trainer
// calls them on every rank alike.
//
// The start is decided before anything is touched: plan_outputs (every rank, rank 0 reads
// the directory) refuses an outputs directory holding another run unless --resume or
// --overwrite says what to do with it; begin() (after set-up succeeded) carries out an
// overwrite and writes run.json.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "roost/comm/communicator.h"
#include "roost/data/dataset.h"
#include "roost/model/state_dict.h"
#include "roost/train/checkpoint.h"
#include "roost/train/config.h"
#include "roost/train/metrics.h"
#include "roost/train/plot.h"
#include "roost/train/run_identity.h"
#include "roost/train/summary.h"

namespace roost::train {

// Class names, counts and a fingerprint of every sample's class and file name.
DatasetIdentity dataset_identity(const std::string& path, const data::Dataset& train, const data::Dataset& val);

struct OutputsPlan {
  OutputsDecision decision;
  std::string existing_run_id;  // run.json's id ("" if none): checkpoints must belong to it
  RunIdentity identity;         // this start's identity (the run id is final once resumed)
};

// Every rank: rank 0 reads output_dir and decides; a refusal is a UsageError on every rank.
OutputsPlan plan_outputs(const TrainConfig& config, const std::vector<std::string>& classes,
                         const DatasetIdentity& dataset, comm::Communicator& comm);

// History points for the curves: accuracies stay fractions (the plot shows percentages).
std::vector<EpochPoint> curve_points(const std::vector<EpochRecord>& history);

class RunOutputs {
 public:
  RunOutputs(const TrainConfig& config, OutputsPlan plan, int rank);
  const RunIdentity& identity() const { return plan_.identity; }
  // Continues the run of a checkpoint (its id, when it has one).
  void adopt_run_id(const std::string& checkpoint_run_id);

  // Set-up succeeded: --overwrite removes the old run's files, leftover temporaries go,
  // run.json is written and the metrics files hold exactly `history`.
  void begin(const std::vector<EpochRecord>& history);
  // An epoch ended: its metrics row, the curves, and model.h5 when it improved.
  void record_epoch(const std::vector<EpochRecord>& history, bool improved, const model::NamedTensors& weights);
  // Writes the checkpoint stamped with the run's identity and prunes old ones; its path
  // ("" on ranks other than 0).
  std::string checkpoint(Checkpoint c);
  // The run ends (completed, stopped, failed): last.h5 and summary.json.
  void finish(const std::string& status, const model::NamedTensors& weights, RunSummary summary);

 private:
  void write_weights(const std::string& name, const model::NamedTensors& weights) const;
  const TrainConfig& config_;
  OutputsPlan plan_;
  bool root_;
  std::unique_ptr<MetricsWriter> writer_;
};

}  // namespace roost::train
