// sweep_chart.h — a recorded sweep as `roost sweeps` shows it: each trial's metric per epoch
// and best value, the best trial, and the sweep's PNG drawn with roost's plotting code.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "roost/sweep/space.h"
#include "roost/sweep/sweep_store.h"

namespace roost::cli {

struct TrialView {
  sweep::TrialRecord record;
  std::vector<double> values;  // the metric per epoch
  std::optional<double> best;
};

struct SweepView {
  std::string metric = "val_acc", policy = "none";
  bool maximize = true;
  std::vector<sweep::Dimension> space;
  std::vector<TrialView> trials;
  const TrialView* best() const;
  std::optional<double> best_value() const;
  int trial_epochs() const;
};

SweepView sweep_view(sweep::SweepStore& store, int64_t id);

// Panel 1: the metric per epoch of every trial; then one panel per parameter: each trial's
// best metric against its value (log10 for loguniform, the index for a choice of words).
void write_sweep_png(const std::string& path, sweep::SweepStore& store, const sweep::SweepRecord& sweep,
                     const SweepView& view);

}  // namespace roost::cli
