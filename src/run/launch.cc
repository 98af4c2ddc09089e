// launch.cc — mpirun command lines and sbatch scripts for roost runs.
#include "roost/run/launch.h"

#include <fstream>
#include <sstream>

#include "roost/core/error.h"

namespace roost::run {

namespace {
// $1 is the log folder, the rest the rank's command. The command runs in the background so
// that the signals reaching the wrapper are passed on to roost, which then checkpoints; the
// loop waits until it is gone. `roost runs cancel` sends mpirun SIGUSR1, which mpirun
// forwards at once (SIGTERM it would turn into a kill a second later) and roost, told by
// ROOST_SIGNAL_RELAY, takes as SIGTERM; SIGTERM and SIGINT from a scheduler pass as they are.
constexpr const char* kRankWrapper =
    "d=$1; shift; r=${OMPI_COMM_WORLD_RANK:-${PMIX_RANK:-${SLURM_PROCID:-0}}}; "
    "\"$@\" >\"$d/rank-$r.log\" 2>&1 & p=$!; "
    "trap 'kill -TERM $p 2>/dev/null' TERM; trap 'kill -INT $p 2>/dev/null' INT; "
    "trap 'kill -USR1 $p 2>/dev/null' USR1; trap 'kill -USR2 $p 2>/dev/null' USR2; "
    "wait $p; s=$?; while kill -0 $p 2>/dev/null; do wait $p; s=$?; done; "
    "echo $s >\"$d/rank-$r.exit\"; exit $s";

bool readable(const std::string& path) {
  std::ifstream in(path);
  return in.good();
}
}  // namespace

Target parse_target(const std::string& name) {
  if (name == "local") return Target::kLocal;
  if (name == "hosts") return Target::kHosts;
  if (name == "slurm") return Target::kSlurm;
  ROOST_USAGE_ERROR("--target: unknown target '", name, "' (use local, hosts or slurm)");
}

const char* to_string(Target t) {
  switch (t) {
    case Target::kLocal: return "local";
    case Target::kHosts: return "hosts";
    case Target::kSlurm: return "slurm";
  }
  return "?";
}

void check_launch(LaunchConfig& c) {
  ROOST_USAGE_CHECK(c.np >= 0 && c.nodes >= 0 && c.procs_per_node >= 0,
                    "--np, --nodes and --procs-per-node must not be negative");
  if (c.target == Target::kLocal) {
    ROOST_USAGE_CHECK(c.nodes <= 1, "--nodes ", c.nodes,
                      ": the local target runs on this machine only (use hosts or slurm)");
    ROOST_USAGE_CHECK(c.hostfile.empty() && c.hosts.empty(), "--hostfile and -H belong to --target hosts");
    if (c.np == 0) c.np = c.procs_per_node > 0 ? c.procs_per_node : 1;
    return;
  }
  if (c.target == Target::kHosts) {
    ROOST_USAGE_CHECK(!c.hostfile.empty() || !c.hosts.empty(),
                      "--target hosts needs --hostfile FILE or -H host1,host2,...");
    ROOST_USAGE_CHECK(c.hostfile.empty() || c.hosts.empty(), "give either --hostfile or -H, not both");
    if (!c.hostfile.empty())
      ROOST_USAGE_CHECK(readable(c.hostfile), "--hostfile ", c.hostfile, ": missing or unreadable");
  } else {
    ROOST_USAGE_CHECK(c.hostfile.empty() && c.hosts.empty(),
                      "--hostfile and -H belong to --target hosts (Slurm picks the nodes)");
  }
  if (c.np == 0) c.np = (c.nodes > 0 ? c.nodes : 1) * (c.procs_per_node > 0 ? c.procs_per_node : 1);
  if (c.nodes > 0 && c.procs_per_node > 0)
    ROOST_USAGE_CHECK(c.np == c.nodes * c.procs_per_node, "--np ", c.np, " differs from --nodes ", c.nodes,
                      " × --procs-per-node ", c.procs_per_node);
}

std::vector<std::string> mpirun_command(const LaunchConfig& c) {
  std::vector<std::string> argv = {c.mpirun, "-np", std::to_string(c.np)};
  if (c.target == Target::kHosts) {
    if (!c.hostfile.empty()) argv.insert(argv.end(), {"--hostfile", c.hostfile});
    if (!c.hosts.empty()) argv.insert(argv.end(), {"-H", c.hosts});
  }
  // P ranks on each node, filled node by node (ranks 0..P-1 on the first node).
  if (c.target != Target::kLocal && c.procs_per_node > 0)
    argv.insert(argv.end(), {"--map-by", "ppr:" + std::to_string(c.procs_per_node) + ":node"});
  argv.insert(argv.end(), c.mpirun_args.begin(), c.mpirun_args.end());
  // scancel, a preemption or the time limit signal every process of the job, the ranks too,
  // which then stop after their step and checkpoint; mpirun, signalled at the same moment,
  // would kill them a second later. Slurm's own KillWait (30 s by default) bounds the wait.
  if (c.target == Target::kSlurm) argv.insert(argv.end(), {"--mca", "odls_base_sigkill_timeout", "30"});
  argv.insert(argv.end(), {"-x", "ROOST_SIGNAL_RELAY=1"});
  argv.insert(argv.end(), {"/bin/sh", "-c", kRankWrapper, "roost-rank", c.run_dir + "/logs", c.roost_binary, "train"});
  argv.insert(argv.end(), c.train_args.begin(), c.train_args.end());
  argv.insert(argv.end(), {"--output-dir", c.run_dir + "/outputs"});
  return argv;
}

std::string sbatch_script(const LaunchConfig& c) {
  std::ostringstream s;
  s << "#!/bin/bash\n"
    << "# roost run " << c.run_dir << " — written by roost submit; sbatch runs it.\n"
    << "#SBATCH --job-name=" << c.job_name << "\n";
  if (c.nodes > 0) s << "#SBATCH --nodes=" << c.nodes << "\n";
  // One task per GPU or CPU slot; mpirun reads the allocation from SLURM_* and starts one rank per task.
  if (c.procs_per_node > 0) s << "#SBATCH --ntasks-per-node=" << c.procs_per_node << "\n";
  else s << "#SBATCH --ntasks=" << c.np << "\n";
  if (c.gpus_per_node > 0) s << "#SBATCH --gres=gpu:" << c.gpus_per_node << "\n";
  if (!c.partition.empty()) s << "#SBATCH --partition=" << c.partition << "\n";
  if (!c.time_limit.empty()) s << "#SBATCH --time=" << c.time_limit << "\n";
  for (const auto& a : c.sbatch_args) s << "#SBATCH " << a << "\n";
  // The job starts in the folder sbatch was called from, so relative --data-dir paths hold.
  s << "#SBATCH --output=" << c.run_dir << "/logs/driver.log\n"
    << "\n"
    << "echo \"roost: Slurm job $SLURM_JOB_ID, $SLURM_NTASKS tasks on $SLURM_JOB_NODELIST\"\n";
  LaunchConfig inside = c;
  inside.target = Target::kSlurm;
  s << shell_join(mpirun_command(inside)) << "\n"
    << "rc=$?\n"
    << "echo $rc > " << shell_quote(c.run_dir + "/exit-status") << "\n"
    << "exit $rc\n";
  return s.str();
}

std::string shell_quote(const std::string& w) {
  if (!w.empty() && w.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./=:,+@%") ==
                        std::string::npos)
    return w;
  std::string out = "'";
  for (char ch : w) {
    if (ch == '\'') out += "'\\''";
    else out += ch;
  }
  return out + "'";
}

std::string shell_join(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) out += (out.empty() ? "" : " ") + shell_quote(a);
  return out;
}

}  // namespace roost::run
