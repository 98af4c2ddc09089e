// roost/sweep/documents.h — a recorded sweep read back (each trial's metric per epoch and best
// value, the best trial) and its JSON documents, shared by `roost sweeps list|show --json` and
// roost ui's /api/sweeps.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "roost/sweep/space.h"
#include "roost/sweep/sweep_store.h"

namespace roost::sweep {

struct TrialView {
  TrialRecord record;
  std::vector<double> values;  // the metric per epoch
  std::optional<double> best;
};

struct SweepView {
  std::string metric = "val_acc", policy = "none", sampling;
  bool maximize = true;
  std::vector<Dimension> space;
  std::vector<TrialView> trials;
  // The trial with the best metric (of the Completed ones with completed_only), or null.
  const TrialView* best(bool completed_only = false) const;
  std::optional<double> best_value() const;
  int trial_epochs() const;
};

SweepView sweep_view(SweepStore& store, int64_t id);

// Where `roost sweeps show` writes the sweep's PNG unless told otherwise.
std::string default_plot_path(const std::string& workspace, int64_t id);

// {sweep, experiment, status, message, settings, trials [{trial, run, status, params, epochs,
// best, stopped_by, previous_runs, values}], trial_epochs, best and best_completed {trial, run,
// value, params} or null, plot}. A trial the policy canceled at epoch K has its best of its
// first K epochs.
std::string sweep_document(const SweepRecord& sweep, const SweepView& view, const std::string& plot);

// {"sweeps": [{id, experiment, status, driver_stale, message, created_at, updated_at, metric,
// goal, sampling, policy, trials, best}, ...]} (oldest first).
std::string sweeps_document(SweepStore& store);

}  // namespace roost::sweep
