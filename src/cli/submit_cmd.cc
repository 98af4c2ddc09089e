// submit_cmd.cc — `roost submit [options] -- <roost train options>`: options → SubmitConfig,
// the train options checked as `roost train` would check them, then roost::run::submit_run.
#include <algorithm>
#include <cstring>
#include <iostream>

#include <signal.h>
#include <unistd.h>

#include "args.h"
#include "commands.h"
#include "roost/core/error.h"
#include "roost/run/follow.h"
#include "roost/run/monitor.h"
#include "roost/run/process.h"
#include "roost/run/submit.h"

namespace roost::cli {

namespace {
cxxopts::Options submit_options() {
  cxxopts::Options o(
      "roost submit",
      "Record a training run in the workspace and launch it:\n"
      "  roost submit --experiment NAME [--target local|hosts|slurm] [options] -- <roost train options>\n"
      "The run's outputs go to WORKSPACE/experiments/NAME/runs/ID/outputs (do not pass --output-dir).");
  // clang-format off
  o.add_options()
      ("experiment", "experiment the run belongs to (required)", cxxopts::value<std::string>())
      ("target", "local (mpirun here), hosts (mpirun over --hostfile/-H), slurm (sbatch)",
       cxxopts::value<std::string>()->default_value("local"))
      ("np", "ranks in all (default: nodes × procs-per-node, or 1)", cxxopts::value<std::string>()->default_value("0"))
      ("nodes", "nodes (hosts, slurm)", cxxopts::value<std::string>()->default_value("0"))
      ("procs-per-node", "ranks per node: one per GPU or CPU slot", cxxopts::value<std::string>()->default_value("0"))
      ("hostfile", "Open MPI hostfile (hosts)", cxxopts::value<std::string>()->default_value(""))
      ("H,hosts", "host list host1:slots,host2:slots (hosts)", cxxopts::value<std::string>()->default_value(""))
      ("max-restarts", "local, hosts: relaunch a failed job up to N times with --resume auto (restart the world)",
       cxxopts::value<std::string>()->default_value("0"))
      ("min-np", "a restart needs at least this many ranks (default: --np)", cxxopts::value<std::string>()->default_value("0"))
      ("max-np", "a restart uses at most this many ranks (default: --np)", cxxopts::value<std::string>()->default_value("0"))
      ("host-discovery-script", "hosts: a program printing the hosts available now, one host[:slots] per line; run "
       "before the launch and before every restart", cxxopts::value<std::string>()->default_value(""))
      ("wait", "stream rank 0's output until the run ends; exit 0 Completed, 1 Failed, 3 Canceled")
      ("workspace", "run store folder (roost.db + experiments/ + models/)",
       cxxopts::value<std::string>()->default_value("roost-workspace"))
      ("mpirun", "the mpirun program", cxxopts::value<std::string>()->default_value("mpirun"))
      ("mpirun-arg", "extra mpirun argument (repeatable), e.g. --mpirun-arg=--oversubscribe",
       cxxopts::value<std::vector<std::string>>())
      ("partition", "Slurm partition", cxxopts::value<std::string>()->default_value(""))
      ("time", "Slurm time limit (e.g. 24:00:00)", cxxopts::value<std::string>()->default_value(""))
      ("gpus-per-node", "Slurm --gres=gpu:N", cxxopts::value<std::string>()->default_value("0"))
      ("sbatch-arg", "extra sbatch option written as an #SBATCH line (repeatable)",
       cxxopts::value<std::vector<std::string>>())
      ("sbatch", "the sbatch program", cxxopts::value<std::string>()->default_value("sbatch"))
      ("skip-data-check", "do not open --data-dir, --pretrained or the --timeline folder here (they exist only on the cluster's nodes)")
      ("h,help", "show this help");
  // clang-format on
  return o;
}

std::vector<std::string> strings(const cxxopts::ParseResult& r, const std::string& name) {
  return r.count(name) ? r[name].as<std::vector<std::string>>() : std::vector<std::string>{};
}

// The restart policy, and with a discovery script (and no --hostfile or -H) the first
// launch's hosts: what the script lists now, np (when not given) all their slots up to --max-np.
void restart_options(const cxxopts::ParseResult& r, run::SubmitConfig& c) {
  run::RestartPolicy& p = c.restart;
  p.max_restarts = get_int(r, "max-restarts");
  p.min_np = get_int(r, "min-np");
  p.max_np = get_int(r, "max-np");
  p.discovery_script = r["host-discovery-script"].as<std::string>();
  if (p.discovery_script.empty() || !c.launch.hostfile.empty() || !c.launch.hosts.empty()) return;
  run::RestartPolicy checked = p;  // the script is there and executable (np is not known yet)
  run::check_restart_policy(checked, c.launch);
  std::string found;
  std::vector<run::HostSlots> hosts = run::available_hosts(c.launch, p, found);
  ROOST_USAGE_CHECK(!hosts.empty(), "--host-discovery-script ", p.discovery_script, ": ", found);
  c.launch.hosts = run::host_list(hosts);
  if (c.launch.np == 0 && c.launch.nodes == 0) {
    int slots = 0;
    for (const auto& h : hosts)
      slots += c.launch.procs_per_node > 0 ? std::min(h.slots, c.launch.procs_per_node) : h.slots;
    c.launch.np = p.max_np > 0 ? std::min(slots, p.max_np) : slots;
  }
}
}  // namespace

int submit_main(int argc, char** argv) {
  // Everything after "--" belongs to roost train.
  int split = argc;
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], "--") == 0) {
      split = i;
      break;
    }
  cxxopts::Options options = submit_options();
  cxxopts::ParseResult r = parse_or_usage(options, split, argv);
  if (print_help_if_asked(options, r)) return 0;

  run::SubmitConfig c;
  c.experiment = get_required(r, "experiment");
  c.launch.target = run::parse_target(r["target"].as<std::string>());
  c.launch.np = get_int(r, "np");
  c.launch.nodes = get_int(r, "nodes");
  c.launch.procs_per_node = get_int(r, "procs-per-node");
  c.launch.hostfile = r["hostfile"].as<std::string>();
  c.launch.hosts = r["hosts"].as<std::string>();
  c.launch.mpirun = r["mpirun"].as<std::string>();
  c.launch.mpirun_args = strings(r, "mpirun-arg");
  c.launch.partition = r["partition"].as<std::string>();
  c.launch.time_limit = r["time"].as<std::string>();
  c.launch.gpus_per_node = get_int(r, "gpus-per-node");
  c.launch.sbatch_args = strings(r, "sbatch-arg");
  c.sbatch = r["sbatch"].as<std::string>();
  c.monitor_binary = run::self_executable();
  c.launch.roost_binary = c.monitor_binary;

  if (split >= argc - 1)
    ROOST_USAGE_ERROR("no training options: roost submit ... -- --data-dir D [roost train options]");
  c.launch.train_args.assign(argv + split + 1, argv + argc);
  c.train_config_json = check_train_args(c.launch.train_args, !r.count("skip-data-check"));
  if (c.launch.target == run::Target::kSlurm && run::find_program(c.sbatch).empty())
    ROOST_USAGE_ERROR("--target slurm: ", c.sbatch, " not found on PATH (is Slurm's client installed?)");
  if (c.launch.target != run::Target::kSlurm && run::find_program(c.launch.mpirun).empty())
    ROOST_USAGE_ERROR("--mpirun ", c.launch.mpirun, ": not found on PATH");
  restart_options(r, c);
  run::check_launch(c.launch);  // before the run is recorded: a bad hostfile leaves no run behind
  run::check_restart_policy(c.restart, c.launch);

  run::RunStore store(r["workspace"].as<std::string>());
  const int64_t id = run::submit_run(store, c);
  const run::RunRecord rec = store.get_run(id);
  std::cerr << "roost: run " << id << " of experiment " << c.experiment << " submitted (" << rec.target
            << (rec.scheduler_id.empty() ? "" : ", Slurm job " + rec.scheduler_id) << "): " << rec.run_dir << "\n";
  if (!r.count("wait")) {
    std::cout << id << "\n";
    return 0;
  }
  // Ctrl-C ends only the streaming (the run's monitor is in a session of its own): say so
  // and how to stop the run, with write(2), the one output a signal handler may use.
  static std::string interrupted;
  interrupted = "\nroost: run " + std::to_string(id) + " is still running; stop it with: roost runs cancel " +
                std::to_string(id) + " --workspace " + r["workspace"].as<std::string>() + "\n";
  struct sigaction sa {};
  sa.sa_handler = [](int sig) {
    (void)!write(2, interrupted.data(), interrupted.size());
    _exit(128 + sig);
  };
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  const run::RunStatus status = run::stream_until_done(store, id, std::cout);
  const run::RunRecord end = store.get_run(id);
  std::cerr << "roost: run " << id << " " << run::to_string(status);
  if (end.best_val_acc) std::cerr << ", best val_acc " << *end.best_val_acc;
  std::cerr << (end.message.empty() ? "" : ": " + end.message) << "\n";
  if (status == run::RunStatus::kFailed) {
    const run::FailedRank failed = run::find_failed_rank(end.run_dir);
    const std::string log = failed.rank >= 0 ? failed.log_path : end.run_dir + "/logs/driver.log";
    std::cerr << "roost: last lines of " << log << ":\n" << run::last_lines(log, 20);
  }
  return run::exit_code_for(status);
}

}  // namespace roost::cli
