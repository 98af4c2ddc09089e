// sweep_options.h — `roost sweep`'s options and their conversion to a SweepConfig, apart from
// running it (a resumed sweep re-reads the arguments it was started with through the same path).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "args.h"
#include "roost/sweep/driver.h"

namespace roost::cli {

struct SweepCommand {
  std::vector<std::string> argv;  // as given (after "sweep"), without --resume and --wait
  cxxopts::ParseResult parsed;
  std::vector<std::string> train_args;  // after "--"
  std::string workspace = "roost-workspace";
  int64_t resume = 0;
  bool wait = false, help = false;
};

// Parses the arguments after "sweep"; UsageError for a bad option. --help prints the options.
SweepCommand parse_sweep_command(const std::vector<std::string>& args);

// The sweep's settings: the space, sampler, policy, limits and one trial's launch, with the
// machine's cores split between the trials that run at once (see docs/sweeps.md).
sweep::SweepConfig sweep_config(const SweepCommand& cmd);

}  // namespace roost::cli
