// roost/train/train_epoch.h — an epoch's training pass: its batches through train_step,
// progress shown, signals agreed after each step, the epoch's training sums.
#pragma once

#include <cstdint>

#include "roost/train/metrics.h"
#include "roost/train/preemption.h"
#include "roost/train/run_parts.h"

namespace roost::train {

struct EpochPass {
  int steps = 0;               // the epoch's steps
  int step = 0;                // steps done when the pass ended
  int stop_signal = 0;         // a signal every rank agreed on during the pass, else 0
  int64_t positions_done = 0;  // of the epoch's sample order, by all ranks (sampler.h)
  int64_t images = 0;          // images this rank trained on in this process
  double seconds = 0;          // the pass's wall time
  bool stopped_mid_epoch() const { return stop_signal != 0 && step < steps; }
};

// Trains epoch `epoch` (0-based) from position `first` of its sample order on (0, or where
// an interrupted epoch stopped, at whatever world size), adding the pass's training loss,
// correct count, images, data wait, skipped samples and gradient exchange times to `sums`
// (which may carry an interrupted epoch's). Stops after the step at which a signal is agreed.
EpochPass train_epoch(RunParts& run, PreemptionWatch& preemption, int epoch, int64_t first, EpochSums& sums);

}  // namespace roost::train
