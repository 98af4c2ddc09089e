// submit.cc — record a run, write its files, launch it and hand it to a detached monitor.
#include "roost/run/submit.h"

#include <chrono>
#include <ostream>
#include <thread>

#include "roost/core/error.h"
#include "roost/core/fs.h"
#include "roost/run/follow.h"
#include "roost/run/monitor.h"
#include "roost/run/process.h"
#include "roost/core/json.h"

namespace roost::run {

namespace {
std::string json_array(const std::vector<std::string>& words) {
  std::string out = "[";
  for (const auto& w : words) out += (out.size() > 1 ? "," : "") + json_escape(w);
  return out + "]";
}

std::string config_json(const SubmitConfig& c, int64_t id) {
  const LaunchConfig& l = c.launch;
  JsonObject o;
  o.add("run", static_cast<int64_t>(id)).add("experiment", c.experiment).add("target", to_string(l.target));
  o.add("np", l.np).add("nodes", l.nodes).add("procs_per_node", l.procs_per_node);
  if (!l.hostfile.empty()) o.add("hostfile", l.hostfile);
  if (!l.hosts.empty()) o.add("hosts", l.hosts);
  if (c.restart.max_restarts > 0)
    o.add("max_restarts", c.restart.max_restarts).add("min_np", c.restart.min_np).add("max_np", c.restart.max_np);
  o.raw("train_args", json_array(l.train_args));
  o.raw("train", c.train_config_json);
  return o.str() + "\n";
}

void start_monitor(const RunStore& store, int64_t id, const SubmitConfig& c, const std::string& run_dir) {
  SpawnOptions o;
  o.new_session = true;  // outlives submit, and a Ctrl-C in the terminal does not reach the job
  o.output_path = run_dir + "/logs/monitor.log";
  spawn({c.monitor_binary, "runs", "monitor", "--workspace", store.workspace(), "--run", std::to_string(id)}, o);
  // Not waited for: when submit exits, the monitor is re-parented to init and goes on.
}

void fail(RunStore& store, int64_t id, int code, const std::string& message) {
  store.set_result(id, code, message);
  store.set_status(id, RunStatus::kFailed, message);
}
}  // namespace

int64_t submit_run(RunStore& store, SubmitConfig& c) {
  check_launch(c.launch);
  NewRun n;
  n.experiment = c.experiment;
  n.target = to_string(c.launch.target);
  n.np = c.launch.np;
  n.train_args = json_array(c.launch.train_args);
  n.config_json = c.train_config_json;
  const int64_t id = store.create_run(n);
  if (c.after_record) c.after_record(id);
  const std::string run_dir = store.get_run(id).run_dir;
  c.launch.run_dir = run_dir;
  c.launch.job_name = "roost-" + c.experiment + "-" + std::to_string(id);
  write_file_atomic(run_dir + "/config.json", config_json(c, id));
  if (c.before_launch) c.before_launch(run_dir);

  if (c.launch.target == Target::kSlurm) {
    // Queued until Slurm reports the job configuring or running.
    write_file_atomic(run_dir + "/job.sbatch", sbatch_script(c.launch));
    const std::vector<std::string> command = {c.sbatch, "--parsable", run_dir + "/job.sbatch"};
    write_command(run_dir, command);
    store.set_command(id, shell_join(command));
    CommandOutput out = run_command(command);
    std::string job = out.output.substr(0, out.output.find_first_of(";\n"));
    if (out.status != 0 || job.empty() || job.find_first_not_of("0123456789") != std::string::npos) {
      std::string message = "sbatch failed (status " + std::to_string(out.status) + "): " + out.output;
      while (!message.empty() && message.back() == '\n') message.pop_back();
      fail(store, id, out.status ? out.status : 1, message);
      ROOST_THROW("run ", id, ": ", message);
    }
    store.set_launch(id, 0, job, 0);
    start_monitor(store, id, c, run_dir);
    return id;
  }

  store.set_status(id, RunStatus::kPreparing);
  write_launch_file(run_dir, c.launch, c.restart);
  const std::vector<std::string> command = mpirun_command(c.launch);
  write_command(run_dir, command);
  store.set_command(id, shell_join(command));
  start_monitor(store, id, c, run_dir);
  // Return once mpirun is running (or the start failed), so that a following `roost runs
  // cancel` finds the process group.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(c.start_timeout_s);
  while (store.get_run(id).status == RunStatus::kPreparing) {
    if (std::chrono::steady_clock::now() > deadline) {
      fail(store, id, 1,
           "the monitor did not start mpirun within " + std::to_string(int(c.start_timeout_s)) + " s (see " + run_dir +
               "/logs/monitor.log)");
      ROOST_THROW("run ", id, ": the monitor did not start; see ", run_dir, "/logs/monitor.log");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return id;
}

RunStatus stream_until_done(RunStore& store, int64_t id, std::ostream& out, int rank, double poll_s) {
  const std::string run_dir = store.get_run(id).run_dir;
  FileFollower log(run_dir + "/logs/rank-" + std::to_string(rank) + ".log");
  for (;;) {
    out << log.read_new() << std::flush;
    const RunStatus status = store.get_run(id).status;
    if (is_terminal(status)) {
      out << log.read_new() << std::flush;
      return status;
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(poll_s));
  }
}

int exit_code_for(RunStatus status) {
  switch (status) {
    case RunStatus::kCompleted: return 0;
    case RunStatus::kCanceled: return 3;
    default: return 1;
  }
}

}  // namespace roost::run
