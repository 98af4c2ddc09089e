// roost/sweep/driver.h — the sweep driver: draws each trial's parameters, submits the trial
// as an ordinary run (the code behind `roost submit`), keeps at most max_concurrent trials
// running, evaluates the early-termination policy on every epoch a running trial records,
// and cancels the trials the policy stops the way `roost runs cancel` does. A driver that is
// stopped leaves a sweep that drive_sweep continues: ended trials are kept, trials still
// running are adopted, and trials it interrupted go on from their checkpoints in new runs.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "roost/run/monitor.h"
#include "roost/run/submit.h"
#include "roost/sweep/policy.h"
#include "roost/sweep/sampler.h"
#include "roost/sweep/space.h"

namespace roost::sweep {

struct SweepConfig {
  std::string experiment;
  std::vector<Dimension> space;
  std::string metric = "val_acc";
  Goal goal = Goal::kMaximize;
  int max_runs = 1;
  int max_concurrent = 1;
  std::string sampling = "random";
  uint64_t seed = 0;
  TpeOptions tpe;
  PolicyConfig policy;
  // One trial's launch; trial.launch.train_args holds the options every trial shares.
  run::SubmitConfig trial;
  // `roost train`'s own check of a trial's options: returns them parsed (JSON) or throws
  // UsageError. Given by the command line layer, which owns the option table.
  std::function<std::string(const std::vector<std::string>&)> check_train_args;
  run::MonitorConfig monitor;
  double poll_s = 0.5;
};

// What a trial interrupted by its driver is marked with (roost sweep --resume continues it).
inline constexpr const char* kInterrupted = "sweep interrupted";

// The shared options followed by `--NAME=word` for every dimension.
std::vector<std::string> trial_train_args(const SweepConfig& config, const Assignment& values);
std::string params_json(const SweepConfig& config, const Assignment& values);
// The settings recorded with the sweep (and shown by `roost sweeps show`).
std::string settings_json(const SweepConfig& config);

// Checks the options of the trials before any starts: grid and random, every trial's (they
// are known in advance); bayesian, each dimension's bounds with the others at their first
// bound. UsageError naming the trial's parameters and the problem.
void check_trials(const SweepConfig& config);

struct SweepResult {
  std::string status;  // Completed | Interrupted
  int trials = 0, stopped_by_policy = 0, trial_epochs = 0;
  std::optional<int> best_trial;
  int64_t best_run = 0;
  double best_value = 0;
};

// Runs sweep `id` (new or resumed) until every trial has ended or `stop` is set; progress
// lines go to `log`. On `stop` the running trials are canceled (they checkpoint) and marked
// kInterrupted.
SweepResult drive_sweep(run::RunStore& runs, int64_t id, const SweepConfig& config, const std::atomic<bool>& stop,
                        std::ostream& log);

// The best trial of a recorded sweep by its best metric, with the sweep's totals.
SweepResult summarize_sweep(run::RunStore& runs, int64_t id, const std::string& metric, Goal goal);

}  // namespace roost::sweep
