// roost/train/config_check.h — every rank must train with the same options (a launcher
// that passes different arguments to different ranks would silently train something else).
#pragma once

#include "roost/comm/communicator.h"
#include "roost/train/config.h"

namespace roost::train {

// Allgathers a hash of each option; throws UsageError on every rank naming the first option
// that differs, this rank's value and the ranks that disagree with rank 0.
void check_same_config(const TrainConfig& config, comm::Communicator& comm);

}  // namespace roost::train
