// roost/run/documents.h — the JSON documents of recorded runs and models, one builder each, shared
// by `roost runs list|show --json`, `roost models list --json` and the web page's /api/.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "roost/run/registry.h"
#include "roost/run/store.h"

namespace roost::run {

// {"runs": [{id, experiment, target, np, status, created_at, updated_at, started_at,
// ended_at, duration_s, epochs, best_val_acc, exit_code, message, restarts}, ...]} (newest last).
std::string runs_document(RunStore& store, const std::string& experiment = "");

// One run: the fields above plus run_dir, command, train_args (the array), scheduler_id,
// monitor_stale, sweep ({sweep, trial, params} when it is a sweep trial, else null), history
// [{status, at, note}] and metrics [one object per epoch].
std::string run_document(RunStore& store, int64_t id);

// The sweep trial a run carries (or carried, before the trial was resumed in a new run).
struct SweepTrialTag {
  int64_t sweep = 0;
  int trial = -1;
  std::string params;  // JSON object: option name → the word passed to roost train
};
std::optional<SweepTrialTag> sweep_trial_of(RunStore& store, int64_t run_id);

// {"models": [{name, version, run_id, path, sha256, size, created_at, metrics, files}, ...]}.
std::string models_document(RunStore& store, const std::string& name = "");

}  // namespace roost::run
