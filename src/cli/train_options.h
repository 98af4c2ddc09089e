// train_options.h — `roost train`'s options and their conversion to a TrainConfig, kept apart
// from running the training so the parse path can be tested and fuzzed without MPI or torch.
#pragma once

#include "args.h"
#include "roost/train/config.h"

namespace roost::cli {

// The option table of `roost train` (defaults from TrainConfig).
cxxopts::Options train_options();

// Reads every option of a parse of train_options() into a TrainConfig; UsageError for a value
// that is not a number where one is expected. Ranges are left to train::validate.
train::TrainConfig to_config(const cxxopts::ParseResult& r);

}  // namespace roost::cli
