// roost/run/monitor.h — watching a launched run to its end. The monitor is a process of its
// own (`roost runs monitor`, started detached by `roost submit`): for local and hosts runs it
// starts mpirun in a new process group and waits for it; for Slurm runs it follows the job's
// state with scontrol. Meanwhile it ingests metrics.jsonl into the store, and at the end it
// records Finalizing, then Completed, Failed (naming the failing rank) or leaves Canceled.
// A run submitted with a restart policy (RUN/launch.json, see restart.h) that fails is
// launched again from its newest checkpoint, each restart recorded in its history.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "roost/run/store.h"

namespace roost::run {

struct MonitorConfig {
  double poll_s = 1.0;           // how often metrics and the job's state are read
  double cancel_grace_s = 20.0;  // SIGTERM (roost checkpoints) before SIGKILL
  std::string scontrol = "scontrol";
  std::string scancel = "scancel";
  // Consecutive failed scontrol queries (controller restarting) tolerated before the job is
  // taken as lost, when it left no exit status behind.
  int scontrol_retries = 60;
  double command_timeout_s = 30;  // scontrol, scancel
  double restart_delay_s = 1.0;   // between a failed job and its restart (launch.json's policy)
};

// The launch command of a run: RUN/command.argv (NUL-separated, what the monitor executes)
// and RUN/command.sh (the same, quoted for a shell: the exact command, for people).
void write_command(const std::string& run_dir, const std::vector<std::string>& argv);
std::vector<std::string> read_command(const std::string& run_dir);

// Runs until the job ends; returns the final status.
RunStatus monitor_run(RunStore& store, int64_t id, const MonitorConfig& config);

// Marks the run Canceled and stops its job: SIGTERM to mpirun's process group (then SIGKILL
// after the grace period) or scancel. UsageError when the run has already ended. `note` is the
// Canceled event's note, `message` the run's message (a sweep's policy names itself in both).
void cancel_run(RunStore& store, int64_t id, const MonitorConfig& config, const std::string& note = "roost runs cancel",
                const std::string& message = "canceled by roost runs cancel");

// The rank that failed first, from RUN/logs/rank-K.exit: the lowest rank with a non-zero
// status other than a kill by the launcher (137, 143), else the lowest non-zero one.
struct FailedRank {
  int rank = -1;  // -1: no rank left an exit status
  int status = 0;
  std::string log_path;
};
FailedRank find_failed_rank(const std::string& run_dir);
FailedRank find_failed_rank_in(const std::string& logs_dir);  // the same for one folder of rank logs

}  // namespace roost::run
