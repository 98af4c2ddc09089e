// roost/run/store.h — the run store: one SQLite database (WORKSPACE/roost.db) recording
// experiments, runs, every status change with its time, and the metrics rows each run's
// training wrote. The artifact folders live beside it (see run_dir()).
//
// Status only moves forward: Queued → Preparing → Running → Finalizing → Completed | Failed |
// Canceled (steps may be skipped; a job can fail while Preparing). A terminal status is never
// changed again, so a monitor that sees the job end after `roost runs cancel` leaves Canceled.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "roost/run/sqlite.h"

namespace roost::run {

enum class RunStatus { kQueued, kPreparing, kRunning, kFinalizing, kCompleted, kFailed, kCanceled };

const char* to_string(RunStatus s);
RunStatus parse_status(const std::string& s);  // Error for an unknown name
bool is_terminal(RunStatus s);

// What `roost submit` records before it launches anything.
struct NewRun {
  std::string experiment;
  std::string target;       // local | hosts | slurm
  int np = 1;               // total ranks
  std::string train_args;   // JSON array of `roost train` arguments, as given
  std::string config_json;  // the parsed TrainConfig
};

struct RunRecord {
  int64_t id = 0;
  std::string experiment, target;
  RunStatus status = RunStatus::kQueued;
  int np = 1;
  std::string run_dir;  // absolute: WORKSPACE/experiments/<experiment>/runs/<id>
  std::string train_args, command;
  std::string scheduler_id;  // Slurm job id
  int64_t pgid = 0;          // process group of mpirun (local, hosts)
  int64_t monitor_pid = 0;
  std::optional<int> exit_code;
  std::string message;  // why it failed or was canceled
  double created_at = 0, updated_at = 0;
  int epochs = 0;                      // metrics rows ingested
  std::optional<double> best_val_acc;  // max val_acc over those rows
  int restarts = 0;                    // times the monitor relaunched the job (restart events)
};

struct StatusEvent {
  RunStatus status;
  double at;  // seconds since the epoch
  std::string note;
};

class RunStore {
 public:
  // 2: model_files (exported formats of a version); 3: sweeps and sweep_trials (roost sweep)
  static constexpr int kSchemaVersion = 3;

  // Opens WORKSPACE/roost.db, creating the folder and the schema when missing. UsageError when
  // the database was written by a newer roost (PRAGMA user_version above kSchemaVersion).
  explicit RunStore(const std::string& workspace);  // creates the workspace if needed (submit)

  const std::string& workspace() const { return workspace_; }
  std::string db_path() const { return workspace_ + "/roost.db"; }
  Database& db() { return *db_; }

  // Records a Queued run and creates its folder (with logs/ and outputs/); returns its id.
  int64_t create_run(const NewRun& run);
  RunRecord get_run(int64_t id);  // UsageError when there is no such run
  std::vector<RunRecord> list_runs(const std::string& experiment = "");
  std::vector<StatusEvent> events(int64_t id);

  // Moves the run to `status` and records the time. Returns false (and changes nothing) when
  // the run already has a terminal status or is already there; Error for a backward move.
  bool set_status(int64_t id, RunStatus status, const std::string& note = "");
  // A Running run's job failed and is launched again with `np` ranks: a Running event whose
  // note starts "restart " (what `restarts` counts) and the run's new rank count.
  void record_restart(int64_t id, int np, const std::string& note);
  void set_command(int64_t id, const std::string& command);
  void set_launch(int64_t id, int64_t pgid, const std::string& scheduler_id, int64_t monitor_pid);
  void set_result(int64_t id, int exit_code, const std::string& message);
  void set_monitor(int64_t id, int64_t monitor_pid);

  // Stores metrics.jsonl lines (one JSON object per epoch, keyed by its "epoch" field; a row
  // seen again replaces the earlier one). Lines that are not JSON objects are skipped.
  // Returns how many rows were stored. One transaction for all lines.
  int ingest_metrics(int64_t id, const std::vector<std::string>& lines);
  std::vector<std::string> metrics(int64_t id);  // JSON rows by epoch

 private:
  void create_schema();
  int64_t schema_version();  // PRAGMA user_version
  std::string workspace_;
  std::unique_ptr<Database> db_;
};

double now_seconds();
std::string format_time(double seconds);  // "2026-11-26 23:40:05" (UTC)

// For the commands that read or change recorded runs and models (runs, models): a
// workspace that does not exist is a mistyped path, not a new workspace. UsageError.
void require_existing_workspace(const std::string& workspace);

}  // namespace roost::run
