// sweep_cmd.cc — `roost sweep [options] -- <train options>` and `roost sweep --resume SWEEP`:
// options → SweepConfig, every trial's train options checked before any starts, then the
// sweep driver in the foreground (--wait) or detached.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <cstring>
#include <iostream>
#include <optional>
#include <thread>

#include "args.h"
#include "commands.h"
#include "roost/core/error.h"
#include "roost/core/json.h"
#include "roost/run/process.h"
#include "roost/sweep/driver.h"
#include "roost/sweep/sweep_store.h"
#include "sweep_options.h"

namespace roost::cli {

namespace {
std::atomic<bool> g_stop{false};

std::string json_array(const std::vector<std::string>& words) {
  std::string out = "[";
  for (const auto& w : words) out += (out.size() > 1 ? "," : "") + json_escape(w);
  return out + "]";
}

void print_result(const sweep::SweepResult& r, int64_t id) {
  std::cerr << "roost: sweep " << id << " " << r.status << ": " << r.trials << " trials, " << r.trial_epochs
            << " trial-epochs, " << r.stopped_by_policy << " stopped by the policy";
  if (r.best_trial) std::cerr << "; best: trial " << *r.best_trial << " (run " << r.best_run << ") " << r.best_value;
  std::cerr << "\n";
}

// Runs the driver here until the sweep ends; SIGINT and SIGTERM stop it (the running trials
// checkpoint and the sweep is left for --resume).
int drive(run::RunStore& runs, int64_t id, const sweep::SweepConfig& config) {
  struct sigaction sa {};
  sa.sa_handler = [](int) { g_stop = true; };
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  const sweep::SweepResult r = sweep::drive_sweep(runs, id, config, g_stop, std::cerr);
  print_result(r, id);
  return r.status == "Completed" ? 0 : 130;
}

// Starts `roost sweep --resume ID` in a session of its own and returns.
void detach(run::RunStore& runs, int64_t id, const std::string& workspace) {
  const std::string dir = runs.workspace() + "/sweeps/" + std::to_string(id);
  std::filesystem::create_directories(dir);
  run::SpawnOptions o;
  o.new_session = true;
  o.output_path = dir + "/driver.log";
  run::spawn({run::self_executable(), "sweep", "--resume", std::to_string(id), "--wait", "--workspace", workspace}, o);
}
}  // namespace

int sweep_main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  SweepCommand cmd = parse_sweep_command(args);
  if (cmd.help) return 0;
  int64_t id = cmd.resume;
  std::optional<sweep::SweepConfig> fresh;
  if (id == 0) {  // every trial's options are checked before the workspace is touched
    fresh = sweep_config(cmd);
    sweep::check_trials(*fresh);
  }
  run::RunStore runs(cmd.workspace);
  sweep::SweepStore store(runs);
  if (id > 0) {
    const sweep::SweepRecord rec = store.get_sweep(id);
    if (rec.status == "Completed") ROOST_USAGE_ERROR("sweep ", id, " has completed: nothing to resume");
    if (rec.driver_pid > 0 && rec.driver_pid != getpid() && rec.status == "Running" &&
        run::process_alive(static_cast<pid_t>(rec.driver_pid)))
      ROOST_USAGE_ERROR("sweep ", id, " is being driven by process ", rec.driver_pid);
    cmd = parse_sweep_command(store.json_strings(rec.argv));
    cmd.wait = cmd.wait || std::find(args.begin(), args.end(), "--wait") != args.end();
  }
  sweep::SweepConfig config = fresh ? *fresh : sweep_config(cmd);
  if (id == 0) {
    id = store.create_sweep(config.experiment, sweep::settings_json(config), json_array(cmd.argv));
    std::cerr << "roost: sweep " << id << " of experiment " << config.experiment << " (" << config.max_runs
              << " trials, " << config.max_concurrent << " at a time, " << config.trial.launch.train_args.size()
              << " shared train options)\n";
  }
  if (!cmd.wait) {
    detach(runs, id, cmd.workspace);
    std::cout << id << "\n";
    return 0;
  }
  return drive(runs, id, config);
}

}  // namespace roost::cli
