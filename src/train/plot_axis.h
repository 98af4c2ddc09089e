// src/train/plot_axis.h — axis ranges and tick labels for the training-curve plots: round
// steps (1, 2, 2.5, 5 × 10^k), whole epochs on x, and labels short enough for a narrow margin.
#pragma once

#include <cmath>
#include <string>
#include <vector>

namespace roost::train {

struct Axis {
  double lo = 0, hi = 1;            // the range mapped onto the plot area; lo < hi
  std::vector<double> ticks;        // inside [lo, hi]
  std::vector<std::string> labels;  // one per tick
};

// A y axis covering the finite entries of `values` (NaN and inf are ignored), widened to
// whole steps. A constant series gets a small range around its value and no finite value
// at all gives [0, 1], so the range is never empty. The widening stops at `floor` and
// `ceiling` when the values lie within them (an accuracy axis ends at 100 %, a loss axis
// at 0); values outside them are never cut off.
Axis value_axis(const std::vector<double>& values, int target_ticks, double floor = -INFINITY,
                double ceiling = INFINITY);

// An x axis from `first` to `last` epoch with ticks on whole epochs. A single epoch is
// centred in a range one epoch wider on each side.
Axis epoch_axis(int first, int last, int target_ticks);

}  // namespace roost::train
