// roost/run/submit.h — recording and launching a run (the work behind `roost submit`): the
// run's row and folder, config.json, the exact command, then mpirun under a detached monitor
// (local, hosts) or sbatch (slurm) with the monitor following the Slurm job.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>

#include "roost/run/launch.h"
#include "roost/run/restart.h"
#include "roost/run/store.h"

namespace roost::run {

struct SubmitConfig {
  std::string experiment;
  LaunchConfig launch;            // run_dir and job_name are filled in by submit_run
  RestartPolicy restart;          // local, hosts: relaunch a failed job (RUN/launch.json)
  std::string train_config_json;  // the parsed `roost train` options, for config.json
  std::string sbatch = "sbatch";
  std::string monitor_binary;   // the roost that runs `roost runs monitor` (this one)
  double start_timeout_s = 60;  // local, hosts: how long to wait for mpirun to start
  // Optional steps for callers that build on submit (roost sweep): right after the run is
  // recorded (to tag it), and after its folder and config.json are written, before launch.
  std::function<void(int64_t id)> after_record;
  std::function<void(const std::string& run_dir)> before_launch;
};

// Records the run, launches it and returns its id once the job has been started (local,
// hosts: the monitor has started mpirun) or accepted (slurm: sbatch returned a job id).
// A launch that fails leaves the run Failed with the reason and raises Error.
int64_t submit_run(RunStore& store, SubmitConfig& config);

// Copies rank `rank`'s log to `out` as it grows until the run ends; returns the final status.
RunStatus stream_until_done(RunStore& store, int64_t id, std::ostream& out, int rank = 0, double poll_s = 0.3);

// Exit code of `roost submit --wait` for a final status: 0 Completed, 1 Failed, 3 Canceled.
int exit_code_for(RunStatus status);

}  // namespace roost::run
