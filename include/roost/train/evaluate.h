// roost/train/evaluate.h — an epoch's validation pass over this rank's shard of the
// validation split, with the BatchNorm statistics rank 0 will save.
#pragma once

#include "roost/train/metrics.h"
#include "roost/train/run_parts.h"

namespace roost::train {

// Adds the pass's summed loss, correct count, images, data wait and skipped samples to `sums`.
void evaluate(RunParts& run, int epoch, EpochSums& sums);

}  // namespace roost::train
