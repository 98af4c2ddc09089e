// runs_cmd.cc — `roost runs list|show|logs|cancel`, and the hidden `roost runs monitor` that
// `roost submit` starts detached to watch a run.
#include <cstdio>
#include <iostream>

#include "args.h"
#include "commands.h"
#include "roost/core/error.h"
#include "roost/run/documents.h"
#include "roost/run/follow.h"
#include "roost/run/monitor.h"
#include "roost/run/process.h"
#include "roost/run/store.h"
#include "roost/run/submit.h"

namespace roost::cli {

namespace {
constexpr const char* kRunsUsage =
    "Usage: roost runs <list|show|logs|cancel> [options]\n"
    "  list   [--experiment NAME] [--json]  runs with status, epochs and best val_acc\n"
    "  show   RUN [--json]               a run: command, folders, status history, metrics\n"
    "  logs   RUN [--rank R] [--train]   what rank R (default 0) wrote to stdout and stderr;\n"
    "                                    --train: roost train's full log of that rank (with times)\n"
    "  logs   RUN --driver               the launcher's output: mpirun's or the Slurm job's\n"
    "  cancel RUN                        stop the job (SIGUSR1 to mpirun: a checkpoint; or scancel)\n"
    "Every command takes --workspace DIR (default roost-workspace).\n";

cxxopts::Options runs_options(const std::string& verb) {
  cxxopts::Options o("roost runs " + verb, kRunsUsage);
  // clang-format off
  o.add_options()
      ("workspace", "run store folder", cxxopts::value<std::string>()->default_value("roost-workspace"))
      ("run", "run id", cxxopts::value<std::string>())
      ("experiment", "only this experiment's runs (list)", cxxopts::value<std::string>()->default_value(""))
      ("rank", "whose log (logs)", cxxopts::value<std::string>()->default_value("0"))
      ("driver", "the launcher's log: mpirun's or the Slurm job's (logs)")
      ("json", "print the JSON document that roost ui's /api/ serves (list, show)")
      ("train", "roost train's own log of the rank, outputs/logs/rank-R.log (logs)")
      ("h,help", "show this help");
  // clang-format on
  o.parse_positional({"run"});
  return o;
}

int64_t run_id(const cxxopts::ParseResult& r) {
  if (!r.count("run")) ROOST_USAGE_ERROR("which run? give its id (roost runs list shows them)");
  return get_uint64(r, "run");
}

std::string acc(const std::optional<double>& v) {
  if (!v) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4f", *v);
  return buf;
}

void list(run::RunStore& store, const std::string& experiment) {
  std::printf("%-5s %-20s %-6s %-4s %-11s %-6s %-12s %s\n", "ID", "EXPERIMENT", "TARGET", "NP", "STATUS", "EPOCHS",
              "BEST_VAL_ACC", "CREATED (UTC)");
  for (const auto& run : store.list_runs(experiment))
    std::printf("%-5lld %-20s %-6s %-4d %-11s %-6d %-12s %s\n", static_cast<long long>(run.id), run.experiment.c_str(),
                run.target.c_str(), run.np, run::to_string(run.status), run.epochs, acc(run.best_val_acc).c_str(),
                run::format_time(run.created_at).c_str());
}

void show(run::RunStore& store, int64_t id) {
  const run::RunRecord run = store.get_run(id);
  std::cout << "run:          " << run.id << "\n"
            << "experiment:   " << run.experiment << "\n"
            << "target:       " << run.target
            << (run.scheduler_id.empty() ? "" : " (Slurm job " + run.scheduler_id + ")") << "\n"
            << "ranks:        " << run.np << "\n"
            << "status:       " << run::to_string(run.status) << "\n"
            << "folder:       " << run.run_dir << "\n"
            << "command:      " << run.command << "\n"
            << "train args:   " << run.train_args << "\n";
  if (const auto tag = run::sweep_trial_of(store, id))
    std::cout << "sweep:        " << tag->sweep << ", trial " << tag->trial << ", parameters " << tag->params << "\n";
  if (run.exit_code) std::cout << "exit code:    " << *run.exit_code << "\n";
  if (run.restarts > 0) {
    std::cout << "restarts:     " << run.restarts << "\n";
    for (const auto& e : store.events(id))
      if (e.note.rfind("restart ", 0) == 0) std::cout << "  " << e.note << "\n";
  }
  if (!run.message.empty()) std::cout << "message:      " << run.message << "\n";
  // The monitor runs on the machine that submitted; where it is gone, nobody updates the run.
  if (!run::is_terminal(run.status) && run.monitor_pid > 0 && !run::process_alive(static_cast<pid_t>(run.monitor_pid)))
    std::cout << "warning:      its monitor (pid " << run.monitor_pid
              << ") is not running on this machine: the status may be stale (roost runs cancel ends the run)\n";
  std::cout << "epochs:       " << run.epochs << " (best val_acc " << acc(run.best_val_acc) << ")\n"
            << "history:\n";
  for (const auto& e : store.events(id))
    std::cout << "  " << run::format_time(e.at) << "  " << run::to_string(e.status)
              << (e.note.empty() ? "" : "  (" + e.note + ")") << "\n";
  const auto rows = store.metrics(id);
  if (!rows.empty()) std::cout << "last metrics: " << rows.back() << "\n";
  if (run.status == run::RunStatus::kFailed) {
    const run::FailedRank failed = run::find_failed_rank(run.run_dir);
    const std::string log = failed.rank >= 0 ? failed.log_path : run.run_dir + "/logs/driver.log";
    std::cout << "last lines of " << log << ":\n" << run::last_lines(log, 20);
  }
}
}  // namespace

int runs_main(int argc, char** argv) {
  const std::string verb = argc > 1 ? argv[1] : "";
  if (verb.empty() || verb == "-h" || verb == "--help") {
    (verb.empty() ? std::cerr : std::cout) << kRunsUsage;
    return verb.empty() ? 2 : 0;
  }
  cxxopts::Options options = runs_options(verb);
  cxxopts::ParseResult r = parse_or_usage(options, argc - 1, argv + 1);
  if (print_help_if_asked(options, r)) return 0;
  if (verb != "list" && verb != "show" && verb != "logs" && verb != "cancel" && verb != "monitor")
    ROOST_USAGE_ERROR("unknown runs command '", verb, "' (use list, show, logs or cancel)");
  run::require_existing_workspace(r["workspace"].as<std::string>());
  run::RunStore store(r["workspace"].as<std::string>());
  const bool as_json = r.count("json") > 0;
  if (verb == "list") {
    if (as_json) std::cout << run::runs_document(store, r["experiment"].as<std::string>()) << "\n";
    else list(store, r["experiment"].as<std::string>());
  } else if (verb == "show") {
    if (as_json) std::cout << run::run_document(store, run_id(r)) << "\n";
    else show(store, run_id(r));
  } else if (verb == "logs") {
    const run::RunRecord run = store.get_run(run_id(r));
    const std::string rank = std::to_string(get_int(r, "rank"));
    const std::string path = r.count("driver")  ? run.run_dir + "/logs/driver.log"
                             : r.count("train") ? run.run_dir + "/outputs/logs/rank-" + rank + ".log"
                                                : run.run_dir + "/logs/rank-" + rank + ".log";
    run::FileFollower log(path);
    const std::string text = log.read_new();
    if (text.empty() && !r.count("driver") && (get_int(r, "rank") < 0 || get_int(r, "rank") >= run.np))
      ROOST_USAGE_ERROR("--rank ", get_int(r, "rank"), ": run ", run.id, " has ranks 0..", run.np - 1);
    std::cout << text;
  } else if (verb == "cancel") {
    const int64_t id = run_id(r);
    run::cancel_run(store, id, run::MonitorConfig{});
    std::cerr << "roost: run " << id << " canceled\n";
  } else {
    const run::RunStatus status = run::monitor_run(store, run_id(r), run::MonitorConfig{});
    return run::exit_code_for(status);
  }
  return 0;
}

}  // namespace roost::cli
