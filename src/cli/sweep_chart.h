// sweep_chart.h — the PNG of a recorded sweep for `roost sweeps show`, drawn with roost's
// plotting code.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "roost/sweep/documents.h"

namespace roost::cli {

using sweep::SweepView;
using sweep::TrialView;

// Panel 1: the metric per epoch of every trial; then one panel per parameter: each trial's
// best metric against its value (log10 for loguniform, the index for a choice of words).
void write_sweep_png(const std::string& path, sweep::SweepStore& store, const sweep::SweepRecord& sweep,
                     const SweepView& view);

}  // namespace roost::cli
