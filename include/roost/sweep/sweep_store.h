// roost/sweep/sweep_store.h — sweeps in the run store: the `sweeps` table (one row per
// `roost sweep`: its settings, the arguments it was started with, its status and driver) and
// `sweep_trials` (one row per trial: its parameters, the run that carries it, who stopped it).
// A trial is an ordinary run of the sweep's experiment; this table is its tag.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "roost/run/store.h"

namespace roost::sweep {

// Running while a driver works on it; Completed when every trial has ended; Interrupted when
// its driver was stopped (roost sweep --resume continues it); Failed when it could not go on.
struct SweepRecord {
  int64_t id = 0;
  std::string experiment, status;
  std::string settings;  // JSON object: metric, goal, sampling, seed, policy, limits, space
  std::string argv;      // JSON array: the command's arguments after "sweep", for --resume
  int64_t driver_pid = 0;
  std::string message;
  double created_at = 0, updated_at = 0;
};

struct TrialRecord {
  int trial = 0;              // 0-based, in the order the sampler drew them
  int64_t run_id = 0;         // the run that carries it now
  std::string params;         // JSON object: option name → the word passed to roost train
  std::string stopped_by;     // "bandit at epoch 3: ...", "sweep interrupted", or empty
  std::string previous_runs;  // runs it continued from ("12,15"), when resumed
  run::RunRecord run;
};

class SweepStore {
 public:
  explicit SweepStore(run::RunStore& runs) : runs_(runs) {}

  int64_t create_sweep(const std::string& experiment, const std::string& settings, const std::string& argv);
  SweepRecord get_sweep(int64_t id);  // UsageError when there is no such sweep
  std::vector<SweepRecord> list_sweeps();
  void set_status(int64_t id, const std::string& status, const std::string& message = "");
  void set_driver(int64_t id, int64_t pid);

  void add_trial(int64_t sweep, int trial, int64_t run_id, const std::string& params);
  // The trial goes on in a new run (resumed from the old one's checkpoint): the old id is kept.
  void replace_run(int64_t sweep, int trial, int64_t run_id);
  void set_stopped_by(int64_t sweep, int trial, const std::string& text);
  std::vector<TrialRecord> trials(int64_t sweep);

  // The run's `metric` per recorded epoch, in epoch order (NaN where a row lacks it).
  std::vector<double> metric_values(int64_t run_id, const std::string& metric);
  // The sweep and trial a run belongs to, or {0, -1}.
  std::pair<int64_t, int> trial_of_run(int64_t run_id);

  // Reads a JSON array of strings (or an object's values) with SQLite's json_each.
  std::vector<std::string> json_strings(const std::string& json);
  std::vector<std::pair<std::string, std::string>> json_members(const std::string& json_object);

  run::RunStore& runs() { return runs_; }

 private:
  run::RunStore& runs_;
};

}  // namespace roost::sweep
