// roost/run/launch.h — how a run is started on each target: the mpirun command line (local
// and hosts) and the sbatch script (slurm). Pure functions of a LaunchConfig, so they are
// unit-tested without MPI or Slurm.
//
// Every rank runs under a small sh wrapper that sends the rank's stdout and stderr to
// RUN/logs/rank-K.log and its exit status to RUN/logs/rank-K.exit, so the logs of all ranks
// are in one place whichever launcher started them, and a failed job names the rank that failed.
#pragma once

#include <string>
#include <vector>

namespace roost::run {

enum class Target { kLocal, kHosts, kSlurm };

Target parse_target(const std::string& name);  // UsageError for an unknown target
const char* to_string(Target t);

struct LaunchConfig {
  Target target = Target::kLocal;
  int np = 0;              // total ranks; 0 = nodes × procs_per_node (or 1)
  int nodes = 0;           // hosts, slurm: nodes to use
  int procs_per_node = 0;  // hosts, slurm: ranks per node (one per GPU or slot)
  std::string hostfile;    // hosts: an Open MPI hostfile
  std::string hosts;       // hosts: -H list (host1:slots,host2:slots)
  std::string mpirun = "mpirun";
  std::vector<std::string> mpirun_args;  // extra mpirun arguments, as given
  std::string roost_binary;              // absolute path of the roost each rank runs
  std::vector<std::string> train_args;   // `roost train` arguments, without --output-dir
  std::string run_dir;                   // absolute
  std::string job_name = "roost";
  // slurm only
  std::string partition, time_limit;
  int gpus_per_node = 0;
  std::vector<std::string> sbatch_args;  // extra #SBATCH lines' arguments
};

// Fills np from nodes × procs_per_node and checks the combination for the target: hosts needs
// a readable hostfile or a -H list; counts must be positive. UsageError naming the problem.
void check_launch(LaunchConfig& config);

// The full mpirun argv: mpirun, its options, the per-rank wrapper, roost train and its
// arguments with --output-dir RUN/outputs.
std::vector<std::string> mpirun_command(const LaunchConfig& config);

// The batch script for sbatch: one task per GPU or slot, mpirun inside the allocation, the
// job's own output in RUN/logs/driver.log and mpirun's exit status in RUN/exit-status.
std::string sbatch_script(const LaunchConfig& config);

std::string shell_quote(const std::string& word);
std::string shell_join(const std::vector<std::string>& argv);

}  // namespace roost::run
