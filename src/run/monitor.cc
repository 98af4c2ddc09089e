// monitor.cc — the run monitor: launch or follow the job, ingest metrics, record the end.
#include "roost/run/monitor.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <thread>

#include "roost/core/error.h"
#include "roost/core/fs.h"
#include "roost/run/follow.h"
#include "roost/run/launch.h"
#include "roost/run/process.h"
#include "roost/run/restart.h"

namespace fs = std::filesystem;

namespace roost::run {

namespace {
void sleep_s(double s) { std::this_thread::sleep_for(std::chrono::duration<double>(s)); }

bool group_alive(int64_t pgid) { return pgid > 0 && (kill(-static_cast<pid_t>(pgid), 0) == 0 || errno == EPERM); }

// Slurm job states (squeue/scontrol names) as run statuses; "" while the state is unknown.
struct SlurmState {
  std::string state;
  int exit_code = -1;
};

SlurmState query_slurm(const MonitorConfig& c, const std::string& job) {
  CommandOutput out = run_command({c.scontrol, "show", "job", "-o", job}, c.command_timeout_s);
  SlurmState s;
  if (out.status != 0) return s;
  std::istringstream words(out.output);
  std::string w;
  while (words >> w) {
    if (w.rfind("JobState=", 0) == 0) s.state = w.substr(9);
    if (w.rfind("ExitCode=", 0) == 0) s.exit_code = std::atoi(w.substr(9).c_str());
  }
  return s;
}

RunStatus slurm_status(const std::string& state) {
  static const std::map<std::string, RunStatus> kMap = {
      {"PENDING", RunStatus::kQueued},      {"REQUEUED", RunStatus::kQueued},   {"CONFIGURING", RunStatus::kPreparing},
      {"RUNNING", RunStatus::kRunning},     {"SUSPENDED", RunStatus::kRunning}, {"COMPLETING", RunStatus::kFinalizing},
      {"COMPLETED", RunStatus::kCompleted}, {"CANCELLED", RunStatus::kCanceled}};
  auto it = kMap.find(state);
  return it == kMap.end() ? RunStatus::kFailed : it->second;  // FAILED, TIMEOUT, NODE_FAIL, OUT_OF_MEMORY, ...
}

int read_exit_status(const std::string& path) {
  std::ifstream in(path);
  int v = -1;
  if (in >> v) return v;
  return -1;
}

// Ingests whatever complete metrics rows appeared since the last call.
struct MetricsIngest {
  RunStore& store;
  int64_t id;
  FileFollower follower;
  void poll() { store.ingest_metrics(id, follower.read_new_lines()); }
};

// The node whose daemon mpirun lost, from its report in driver.log ("Remote daemon: [[J,0],K]
// on node HOST"); "" when it lost none.
std::string lost_node(const std::string& driver_log) {
  std::ifstream in(driver_log);
  for (std::string line; std::getline(in, line);) {
    const size_t at = line.find("Remote daemon:");
    const size_t on = at == std::string::npos ? at : line.find(" on node ", at);
    if (on != std::string::npos) {
      std::string host = line.substr(on + 9);
      host.erase(host.find_last_not_of(" \t\r") + 1);
      if (!host.empty()) return host;
    }
  }
  return "";
}

// What ended a failed job: a node mpirun lost, else the rank that failed first, else mpirun's
// own status.
std::string failure_text(const std::string& run_dir, const std::string& logs_dir, int status, const std::string& what) {
  if (const std::string node = lost_node(logs_dir + "/driver.log"); !node.empty())
    return "node " + node + " was lost (" + what + " lost its daemon there and exited with status " +
           std::to_string(status) + ", " + logs_dir + "/driver.log)";
  const FailedRank failed = find_failed_rank_in(logs_dir);
  if (failed.rank >= 0)
    return "rank " + std::to_string(failed.rank) + " exited with status " + std::to_string(failed.status) + " (" +
           failed.log_path + ")";
  return what + " exited with status " + std::to_string(status) + " (" + run_dir + "/logs/driver.log)";
}

// Records the end of a job that exited with `status`: Finalizing, the last metrics, then
// Completed or Failed with the failing rank named.
RunStatus finish(RunStore& store, int64_t id, MetricsIngest& metrics, int status, const std::string& what,
                 int restarts = 0) {
  store.set_status(id, RunStatus::kFinalizing);
  metrics.poll();
  const RunRecord run = store.get_run(id);
  if (run.status == RunStatus::kCanceled) {
    store.set_result(id, status, run.message.empty() ? "canceled" : run.message);
    return RunStatus::kCanceled;
  }
  if (status == 0) {
    store.set_result(id, 0, "");
    store.set_status(id, RunStatus::kCompleted);
    return store.get_run(id).status;
  }
  std::string message = failure_text(run.run_dir, run.run_dir + "/logs", status, what);
  if (restarts > 0) message += " after " + std::to_string(restarts) + " restart" + (restarts == 1 ? "" : "s");
  store.set_result(id, status, message);
  store.set_status(id, RunStatus::kFailed, message);
  return store.get_run(id).status;
}

// Starts the run's current command (RUN/command.argv) in a process group of its own and waits
// for it; std::nullopt (the run Failed) when it cannot be started.
std::optional<int> run_job(RunStore& store, int64_t id, const MonitorConfig& c, MetricsIngest& metrics) {
  const RunRecord run = store.get_run(id);
  SpawnOptions o;
  o.new_process_group = true;
  o.output_path = run.run_dir + "/logs/driver.log";
  pid_t pid;
  try {
    pid = spawn(read_command(run.run_dir), o);
  } catch (const Error& e) {
    store.set_result(id, 127, e.message());
    store.set_status(id, RunStatus::kFailed, e.message());
    return std::nullopt;
  }
  store.set_launch(id, pid, "", getpid());  // pgid = pid: the child leads its own group
  store.set_status(id, RunStatus::kRunning, "mpirun pid " + std::to_string(pid));
  if (store.get_run(id).status == RunStatus::kCanceled) kill(-pid, SIGTERM);  // canceled while starting
  std::optional<int> status;
  while (!(status = wait_child(pid, false))) {
    metrics.poll();
    sleep_s(c.poll_s);
  }
  return status;
}

// The failed attempt's logs move to RUN/logs/attempt-K/ (K from 1), so the next attempt's
// rank logs and exit statuses start afresh and the failed ones stay readable.
std::string archive_logs(const std::string& run_dir, int attempt) {
  const std::string dest = run_dir + "/logs/attempt-" + std::to_string(attempt);
  fs::create_directories(dest);
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(run_dir + "/logs", ec)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && (name.rfind("rank-", 0) == 0 || name == "driver.log"))
      fs::rename(entry.path(), dest + "/" + name);
  }
  return dest;
}

// Prepares restart `k` of a job that failed with `status`: archives its logs, finds where it
// can go and writes the command that relaunches it with --resume auto. False when it cannot
// go anywhere (the run is then Failed, saying why).
bool prepare_restart(RunStore& store, int64_t id, const LaunchConfig& first, const RestartPolicy& policy, int k,
                     int status) {
  const RunRecord run = store.get_run(id);
  const std::string failure = failure_text(run.run_dir, archive_logs(run.run_dir, k), status, "mpirun");
  std::string found;
  const RestartPlan plan = plan_restart(first, policy, available_hosts(first, policy, found));
  const std::string of = std::to_string(k) + " of " + std::to_string(policy.max_restarts);
  if (!plan.possible) {
    const std::string message = failure + "; restart " + of + " not possible: " + plan.reason;
    store.set_result(id, status, message);
    store.set_status(id, RunStatus::kFailed, message);
    return false;
  }
  const std::vector<std::string> command = mpirun_command(plan.launch);
  write_command(run.run_dir, command);
  store.set_command(id, shell_join(command));
  store.record_restart(id, plan.launch.np,
                       "restart " + of + ": " + failure + "; " + found + "; relaunched with " + plan.reason +
                           " from the newest checkpoint");
  return true;
}

RunStatus monitor_mpirun(RunStore& store, int64_t id, const MonitorConfig& c, MetricsIngest& metrics) {
  const RunRecord run = store.get_run(id);
  if (is_terminal(run.status)) return run.status;  // canceled before it started
  LaunchConfig first;
  RestartPolicy policy;  // runs submitted without launch.json never restart
  if (fs::exists(run.run_dir + "/launch.json")) read_launch_file(run.run_dir, first, policy);
  for (int restarts = 0;; ++restarts) {
    if (store.get_run(id).status == RunStatus::kCanceled) return finish(store, id, metrics, 130, "mpirun", restarts);
    const std::optional<int> status = run_job(store, id, c, metrics);
    if (!status) return RunStatus::kFailed;
    if (*status == 0 || restarts >= policy.max_restarts || store.get_run(id).status == RunStatus::kCanceled)
      return finish(store, id, metrics, *status, "mpirun", restarts);
    metrics.poll();
    if (!prepare_restart(store, id, first, policy, restarts + 1, *status)) return RunStatus::kFailed;
    sleep_s(c.restart_delay_s);
  }
}

RunStatus monitor_slurm(RunStore& store, int64_t id, const MonitorConfig& c, MetricsIngest& metrics) {
  const RunRecord run = store.get_run(id);
  const std::string exit_file = run.run_dir + "/exit-status";
  int failures = 0;
  for (;;) {
    metrics.poll();
    // `roost runs cancel` has marked it and called scancel: nothing more will come from the job.
    if (store.get_run(id).status == RunStatus::kCanceled) return finish(store, id, metrics, 130, "Slurm job");
    SlurmState s = query_slurm(c, run.scheduler_id);
    if (s.state.empty()) {  // the job is gone from the controller (or the controller is away)
      int rc = read_exit_status(exit_file);
      if (rc >= 0) return finish(store, id, metrics, rc, "the batch script");
      if (++failures > c.scontrol_retries) return finish(store, id, metrics, 1, "Slurm job " + run.scheduler_id);
    } else {
      failures = 0;
      RunStatus st = slurm_status(s.state);
      if (!is_terminal(st)) {
        store.set_status(id, st, "Slurm " + s.state);
      } else if (st == RunStatus::kCanceled) {
        store.set_status(id, RunStatus::kCanceled, "scancel");
        return finish(store, id, metrics, 1, "Slurm job");
      } else {
        int rc = read_exit_status(exit_file);
        if (rc < 0) rc = st == RunStatus::kCompleted ? 0 : (s.exit_code > 0 ? s.exit_code : 1);
        return finish(store, id, metrics, rc, "Slurm job " + run.scheduler_id + " (" + s.state + ")");
      }
    }
    sleep_s(c.poll_s);
  }
}
}  // namespace

void write_command(const std::string& run_dir, const std::vector<std::string>& argv) {
  std::string nul_separated;
  for (const auto& a : argv) nul_separated += a + '\0';
  write_file_atomic(run_dir + "/command.argv", nul_separated);
  write_file_atomic(run_dir + "/command.sh", "#!/bin/sh\n" + shell_join(argv) + "\n");
}

std::vector<std::string> read_command(const std::string& run_dir) {
  std::ifstream in(run_dir + "/command.argv", std::ios::binary);
  if (!in) ROOST_THROW("cannot read ", run_dir, "/command.argv");
  std::vector<std::string> argv;
  std::string word;
  while (std::getline(in, word, '\0')) argv.push_back(word);
  if (argv.empty()) ROOST_THROW(run_dir, "/command.argv is empty");
  return argv;
}

RunStatus monitor_run(RunStore& store, int64_t id, const MonitorConfig& config) {
  const RunRecord run = store.get_run(id);
  store.set_monitor(id, getpid());
  MetricsIngest metrics{store, id, FileFollower(run.run_dir + "/outputs/metrics.jsonl")};
  if (run.target == "slurm") return monitor_slurm(store, id, config, metrics);
  return monitor_mpirun(store, id, config, metrics);
}

void cancel_run(RunStore& store, int64_t id, const MonitorConfig& c, const std::string& note,
                const std::string& message) {
  const RunRecord run = store.get_run(id);
  if (!store.set_status(id, RunStatus::kCanceled, note))
    ROOST_USAGE_ERROR("run ", id, " has already ended (", to_string(run.status), ")");
  store.set_result(id, 130, message);
  if (run.target == "slurm") {
    if (run.scheduler_id.empty()) return;
    CommandOutput out = run_command({c.scancel, run.scheduler_id}, c.command_timeout_s);
    if (out.status != 0) ROOST_THROW("scancel ", run.scheduler_id, " failed: ", out.output);
    return;
  }
  if (run.pgid <= 0) return;  // not started yet: the monitor sees Canceled and does not start it
  // mpirun (the group's leader) forwards SIGUSR1 to the ranks at once; they take it as
  // SIGTERM (ROOST_SIGNAL_RELAY), checkpoint and exit 143. Whatever remains after the grace
  // period is killed.
  kill(static_cast<pid_t>(run.pgid), SIGUSR1);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(c.cancel_grace_s);
  while (group_alive(run.pgid) && std::chrono::steady_clock::now() < deadline) sleep_s(0.2);
  if (group_alive(run.pgid)) kill(-static_cast<pid_t>(run.pgid), SIGKILL);
}

FailedRank find_failed_rank(const std::string& run_dir) { return find_failed_rank_in(run_dir + "/logs"); }

FailedRank find_failed_rank_in(const std::string& logs_dir) {
  std::map<int, int> statuses;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(logs_dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("rank-", 0) != 0 || entry.path().extension() != ".exit") continue;
    int rank = std::atoi(name.substr(5).c_str());
    statuses[rank] = read_exit_status(entry.path().string());
  }
  FailedRank out;
  for (int pass = 0; pass < 2 && out.rank < 0; ++pass)
    for (const auto& [rank, status] : statuses)
      if (status != 0 && (pass == 1 || (status != 137 && status != 143))) {
        out.rank = rank;
        out.status = status;
        break;
      }
  if (out.rank >= 0) out.log_path = logs_dir + "/rank-" + std::to_string(out.rank) + ".log";
  return out;
}

}  // namespace roost::run
