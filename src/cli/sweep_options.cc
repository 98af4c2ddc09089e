// sweep_options.cc — `roost sweep`'s option table, and the SweepConfig built from it.
#include "sweep_options.h"

#include <algorithm>
#include <cstring>
#include <iostream>
#include <thread>

#include "commands.h"
#include "roost/core/error.h"
#include "roost/run/process.h"

namespace roost::cli {

namespace {
cxxopts::Options sweep_options() {
  cxxopts::Options o(
      "roost sweep",
      "Run a hyperparameter sweep: every trial is a run of the experiment, with early termination:\n"
      "  roost sweep --experiment E --param NAME=SPACE ... --max-runs N [options] -- <roost train options>\n"
      "  roost sweep --resume SWEEP [--wait]\n"
      "SPACE: choice(a,b,...) uniform(lo,hi) loguniform(lo,hi) quniform(lo,hi,q) randint(lo,hi)");
  auto str = [](const char* d) { return cxxopts::value<std::string>()->default_value(d); };
  o.add_options()("experiment", "experiment the trials belong to (required)", cxxopts::value<std::string>())(
      "workspace", "run store folder", str("roost-workspace"))(
      "param", "NAME=SPACE for a roost train option (repeatable)", cxxopts::value<std::vector<std::string>>())(
      "metric", "metrics.jsonl field to optimize", str("val_acc"))("goal", "max|min", str("max"))(
      "max-runs", "trials in all", str("1"))("max-concurrent", "trials at once", str("1"))(
      "sampling", "grid|random|bayesian (TPE)", str("random"))("seed", "seed of the random and bayesian samplers",
                                                               str("0"))(
      "policy", "early termination: none|bandit|median|truncation", str("none"))(
      "slack-factor", "bandit: cancel below best / (1 + s) (maximizing)", str("0"))(
      "slack-amount", "bandit: cancel below best - a (maximizing)", str("0"))(
      "evaluation-interval", "epochs between policy evaluations", str("1"))(
      "delay-evaluation", "first epoch the policy is evaluated at", str("0"))(
      "truncation-percentage", "truncation: cancel this lowest % at each evaluation", str("0"))(
      "cores", "cores to split between concurrent trials (0 = this machine's)", str("0"))(
      "resume", "continue this sweep", cxxopts::value<std::string>())(
      "wait", "drive the sweep in the foreground until it ends (else a detached driver does)")(
      "target", "local|hosts|slurm, as roost submit", str("local"))("np", "ranks per trial", str("1"))(
      "nodes", "nodes per trial (hosts, slurm)", str("0"))("procs-per-node", "ranks per node (hosts, slurm)", str("0"))(
      "hostfile", "Open MPI hostfile (hosts)", str(""))("H,hosts", "host list (hosts)", str(""))(
      "mpirun", "the mpirun program", str("mpirun"))("mpirun-arg", "extra mpirun argument (repeatable)",
                                                     cxxopts::value<std::vector<std::string>>())(
      "partition", "Slurm partition", str(""))("time", "Slurm time limit", str(""))(
      "gpus-per-node", "Slurm --gres=gpu:N", str("0"))("sbatch-arg", "extra #SBATCH option (repeatable)",
                                                       cxxopts::value<std::vector<std::string>>())(
      "sbatch", "the sbatch program", str("sbatch"))(
      "skip-data-check", "do not open --data-dir here (it exists only on the cluster's nodes)")("h,help",
                                                                                                "show this help");
  return o;
}

std::vector<std::string> strings(const cxxopts::ParseResult& r, const std::string& name) {
  return r.count(name) ? r[name].as<std::vector<std::string>>() : std::vector<std::string>{};
}

bool has_option(const std::vector<std::string>& args, const std::string& name) {
  return std::any_of(args.begin(), args.end(),
                     [&](const std::string& a) { return a == name || a.rfind(name + "=", 0) == 0; });
}

void set_launch(const cxxopts::ParseResult& r, run::LaunchConfig& l) {
  l.target = run::parse_target(r["target"].as<std::string>());
  l.np = get_int(r, "np");
  l.nodes = get_int(r, "nodes");
  l.procs_per_node = get_int(r, "procs-per-node");
  l.hostfile = r["hostfile"].as<std::string>();
  l.hosts = r["hosts"].as<std::string>();
  l.mpirun = r["mpirun"].as<std::string>();
  l.mpirun_args = strings(r, "mpirun-arg");
  l.partition = r["partition"].as<std::string>();
  l.time_limit = r["time"].as<std::string>();
  l.gpus_per_node = get_int(r, "gpus-per-node");
  l.sbatch_args = strings(r, "sbatch-arg");
  l.roost_binary = run::self_executable();
}

// Trials that run at once on this machine share its cores: each rank gets cores / (K × np)
// intra-op threads and as many decode workers, and mpirun does not bind ranks to cores (two
// mpiruns would each bind their rank 0 to core 0).
void split_cores(const SweepCommand& cmd, sweep::SweepConfig& c) {
  if (c.trial.launch.target != run::Target::kLocal) return;
  int cores = get_int(cmd.parsed, "cores");
  if (cores <= 0) cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int per_rank = std::max(1, cores / (c.max_concurrent * std::max(1, c.trial.launch.np)));
  auto& args = c.trial.launch.train_args;
  if (!has_option(args, "--threads")) args.push_back("--threads=" + std::to_string(per_rank));
  if (!has_option(args, "--workers")) args.push_back("--workers=" + std::to_string(per_rank));
  auto& mpi = c.trial.launch.mpirun_args;
  if (c.max_concurrent > 1 && !has_option(mpi, "--bind-to")) mpi.insert(mpi.end(), {"--bind-to", "none"});
}

// cxxopts splits a repeated option's values at commas, and so cuts "lr=uniform(0,1)" in two:
// the pieces are joined again until each --param's parentheses balance.
std::vector<std::string> param_texts(const cxxopts::ParseResult& r) {
  std::vector<std::string> out;
  int depth = 0;
  for (const auto& piece : strings(r, "param")) {
    if (depth > 0) out.back() += "," + piece;
    else out.push_back(piece);
    for (char ch : piece) depth += ch == '(' ? 1 : ch == ')' ? -1 : 0;
  }
  return out;
}

void set_policy(const cxxopts::ParseResult& r, sweep::PolicyConfig& p) {
  p.kind = sweep::parse_policy(r["policy"].as<std::string>());
  p.slack_factor = get_double(r, "slack-factor");
  p.slack_amount = get_double(r, "slack-amount");
  p.evaluation_interval = get_int(r, "evaluation-interval");
  p.delay_evaluation = get_int(r, "delay-evaluation");
  p.truncation_percentage = get_double(r, "truncation-percentage");
  sweep::check_policy(p);
}
}  // namespace

SweepCommand parse_sweep_command(const std::vector<std::string>& args) {
  SweepCommand cmd;
  auto split = std::find(args.begin(), args.end(), "--");
  cmd.train_args.assign(split == args.end() ? split : split + 1, args.end());
  std::vector<std::string> words = {"sweep"};
  words.insert(words.end(), args.begin(), split);
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  cxxopts::Options options = sweep_options();
  cmd.parsed = parse_or_usage(options, static_cast<int>(argv.size()), argv.data());
  cmd.help = print_help_if_asked(options, cmd.parsed);
  cmd.workspace = cmd.parsed["workspace"].as<std::string>();
  cmd.wait = cmd.parsed.count("wait") > 0;
  if (cmd.parsed.count("resume")) cmd.resume = get_int(cmd.parsed, "resume");
  for (const auto& a : args)
    if (a != "--wait") cmd.argv.push_back(a);
  return cmd;
}

sweep::SweepConfig sweep_config(const SweepCommand& cmd) {
  const cxxopts::ParseResult& r = cmd.parsed;
  sweep::SweepConfig c;
  c.experiment = get_required(r, "experiment");
  c.space = sweep::parse_space(param_texts(r));
  c.metric = r["metric"].as<std::string>();
  c.goal = sweep::parse_goal(r["goal"].as<std::string>());
  c.max_runs = get_int(r, "max-runs");
  c.max_concurrent = get_int(r, "max-concurrent");
  if (c.max_runs < 1) ROOST_USAGE_ERROR("--max-runs ", c.max_runs, ": must be at least 1");
  if (c.max_concurrent < 1) ROOST_USAGE_ERROR("--max-concurrent ", c.max_concurrent, ": must be at least 1");
  c.sampling = r["sampling"].as<std::string>();
  c.seed = get_uint64(r, "seed");
  set_policy(r, c.policy);
  if (cmd.train_args.empty())
    ROOST_USAGE_ERROR("no training options: roost sweep ... -- --data-dir D [roost train options]");
  for (const auto& d : c.space)
    if (has_option(cmd.train_args, "--" + d.name))
      ROOST_USAGE_ERROR("--", d.name, " is both searched (--param) and fixed (after --): give it once");
  c.trial.experiment = c.experiment;
  set_launch(r, c.trial.launch);
  c.trial.launch.train_args = cmd.train_args;
  c.trial.sbatch = r["sbatch"].as<std::string>();
  c.trial.monitor_binary = run::self_executable();
  split_cores(cmd, c);
  if (c.trial.launch.target != run::Target::kSlurm && run::find_program(c.trial.launch.mpirun).empty())
    ROOST_USAGE_ERROR("--mpirun ", c.trial.launch.mpirun, ": not found on PATH");
  run::check_launch(c.trial.launch);
  const bool check_data = !r.count("skip-data-check");
  c.check_train_args = [check_data](const std::vector<std::string>& a) { return check_train_args(a, check_data); };
  return c;
}

}  // namespace roost::cli
