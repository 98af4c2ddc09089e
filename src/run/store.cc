// store.cc — the run store's schema, status transitions and metrics ingestion.
#include "roost/run/store.h"

#include <chrono>
#include <ctime>
#include <filesystem>

#include "roost/core/error.h"
#include "roost/core/fs.h"

namespace fs = std::filesystem;

namespace roost::run {

namespace {
constexpr const char* kNames[] = {"Queued", "Preparing", "Running", "Finalizing", "Completed", "Failed", "Canceled"};

// Version 3 (1 had no model_files, 2 no sweeps and sweep_trials). Every statement is idempotent, so running the whole
// schema migrates an older file; an older roost refuses a newer file rather than writing rows it does not understand.
constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS experiments (
  name TEXT PRIMARY KEY,
  created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  experiment TEXT NOT NULL REFERENCES experiments(name),
  target TEXT NOT NULL,
  status TEXT NOT NULL,
  np INTEGER NOT NULL,
  run_dir TEXT NOT NULL,
  train_args TEXT NOT NULL,
  config TEXT NOT NULL,
  command TEXT NOT NULL DEFAULT '',
  scheduler_id TEXT NOT NULL DEFAULT '',
  pgid INTEGER NOT NULL DEFAULT 0,
  monitor_pid INTEGER NOT NULL DEFAULT 0,
  exit_code INTEGER,
  message TEXT NOT NULL DEFAULT '',
  created_at REAL NOT NULL,
  updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS run_events (
  run_id INTEGER NOT NULL REFERENCES runs(id),
  status TEXT NOT NULL,
  at REAL NOT NULL,
  note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS run_events_by_run ON run_events(run_id);
CREATE TABLE IF NOT EXISTS metrics (
  run_id INTEGER NOT NULL REFERENCES runs(id),
  epoch INTEGER NOT NULL,
  data TEXT NOT NULL,
  PRIMARY KEY (run_id, epoch)
);
CREATE TABLE IF NOT EXISTS models (
  name TEXT NOT NULL,
  version INTEGER NOT NULL,
  run_id INTEGER NOT NULL REFERENCES runs(id),
  path TEXT NOT NULL,
  source_path TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  size INTEGER NOT NULL,
  metrics TEXT NOT NULL,
  created_at REAL NOT NULL,
  PRIMARY KEY (name, version)
);
CREATE TABLE IF NOT EXISTS model_files (
  name TEXT NOT NULL,
  version INTEGER NOT NULL,
  format TEXT NOT NULL,
  path TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  size INTEGER NOT NULL,
  PRIMARY KEY (name, version, format),
  FOREIGN KEY (name, version) REFERENCES models(name, version)
);
CREATE TABLE IF NOT EXISTS sweeps (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  experiment TEXT NOT NULL REFERENCES experiments(name),
  status TEXT NOT NULL,
  settings TEXT NOT NULL,
  argv TEXT NOT NULL,
  driver_pid INTEGER NOT NULL DEFAULT 0,
  message TEXT NOT NULL DEFAULT '',
  created_at REAL NOT NULL,
  updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS sweep_trials (
  sweep_id INTEGER NOT NULL REFERENCES sweeps(id),
  trial INTEGER NOT NULL,
  run_id INTEGER NOT NULL REFERENCES runs(id),
  params TEXT NOT NULL,
  stopped_by TEXT NOT NULL DEFAULT '',
  previous_runs TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (sweep_id, trial)
);
CREATE INDEX IF NOT EXISTS sweep_trials_by_run ON sweep_trials(run_id);
)sql";

constexpr const char* kRunColumns =
    "r.id, r.experiment, r.target, r.status, r.np, r.run_dir, r.train_args, r.command, r.scheduler_id, r.pgid, "
    "r.monitor_pid, r.exit_code, r.message, r.created_at, r.updated_at, "
    "(SELECT count(*) FROM metrics m WHERE m.run_id = r.id), "
    "(SELECT max(json_extract(m.data, '$.val_acc')) FROM metrics m WHERE m.run_id = r.id), "
    "(SELECT count(*) FROM run_events e WHERE e.run_id = r.id AND e.note LIKE 'restart %')";

RunRecord read_run(const Statement& s) {
  RunRecord r;
  r.id = s.get_int(0);
  r.experiment = s.get_text(1);
  r.target = s.get_text(2);
  r.status = parse_status(s.get_text(3));
  r.np = static_cast<int>(s.get_int(4));
  r.run_dir = s.get_text(5);
  r.train_args = s.get_text(6);
  r.command = s.get_text(7);
  r.scheduler_id = s.get_text(8);
  r.pgid = s.get_int(9);
  r.monitor_pid = s.get_int(10);
  if (!s.is_null(11)) r.exit_code = static_cast<int>(s.get_int(11));
  r.message = s.get_text(12);
  r.created_at = s.get_double(13);
  r.updated_at = s.get_double(14);
  r.epochs = static_cast<int>(s.get_int(15));
  r.best_val_acc = s.get_optional_double(16);
  r.restarts = static_cast<int>(s.get_int(17));
  return r;
}

void check_experiment_name(const std::string& name) {
  bool ok = !name.empty() && name.size() <= 100 && name[0] != '.';
  for (char c : name) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.');
  if (!ok) ROOST_USAGE_ERROR("--experiment '", name, "': use letters, digits, '-', '_' and '.' (a folder name)");
}
}  // namespace

const char* to_string(RunStatus s) { return kNames[static_cast<int>(s)]; }

RunStatus parse_status(const std::string& s) {
  for (int i = 0; i < 7; ++i)
    if (s == kNames[i]) return static_cast<RunStatus>(i);
  ROOST_THROW("unknown run status '", s, "'");
}

bool is_terminal(RunStatus s) { return s >= RunStatus::kCompleted; }

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string format_time(double seconds) {
  if (seconds <= 0) return "-";
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

void require_existing_workspace(const std::string& workspace) {
  std::error_code ec;
  if (!fs::is_regular_file(fs::path(workspace) / "roost.db", ec))
    ROOST_USAGE_ERROR("--workspace ", workspace, " is not a roost workspace (no roost.db; roost submit creates one)");
}

RunStore::RunStore(const std::string& workspace) {
  std::error_code ec;
  fs::create_directories(workspace, ec);
  if (ec || !fs::is_directory(workspace))
    ROOST_USAGE_ERROR("--workspace ", workspace, ": cannot create it (", ec.message(), ")");
  workspace_ = fs::absolute(workspace).lexically_normal().string();
  if (!workspace_.empty() && workspace_.back() == '/') workspace_.pop_back();
  db_ = std::make_unique<Database>(db_path(), true);
  create_schema();
}

int64_t RunStore::schema_version() {
  Statement v = db_->prepare("PRAGMA user_version");
  v.step();
  return v.get_int(0);
}  // finished before a COMMIT, which refuses to run while a statement is active

void RunStore::create_schema() {
  // A current database is only read: readers (runs list, roost ui's requests every few seconds)
  // then never take the write lock the monitors need.
  if (schema_version() == kSchemaVersion) return;
  Transaction tx(*db_);  // two first submits at once: the second waits and then sees version 1
  const int64_t version = schema_version();
  if (version > kSchemaVersion)
    ROOST_USAGE_ERROR("workspace database ", db_path(), " has schema version ", version,
                      ", newer than this roost understands (", kSchemaVersion, "): use a newer roost");
  if (version < kSchemaVersion) {
    db_->exec(kSchema);
    db_->exec("PRAGMA user_version = " + std::to_string(kSchemaVersion));
  }
  tx.commit();
}

int64_t RunStore::create_run(const NewRun& run) {
  check_experiment_name(run.experiment);
  const double now = now_seconds();
  int64_t id = 0;
  {
    Transaction tx(*db_);
    db_->prepare("INSERT OR IGNORE INTO experiments(name, created_at) VALUES (?, ?)")
        .bind(1, run.experiment)
        .bind(2, now)
        .run();
    // The id is known only after the insert; the folder name is derived from it.
    db_->prepare(
           "INSERT INTO runs(experiment, target, status, np, run_dir, train_args, config, created_at, updated_at) "
           "VALUES (?, ?, 'Queued', ?, '', ?, ?, ?, ?)")
        .bind(1, run.experiment)
        .bind(2, run.target)
        .bind(3, run.np)
        .bind(4, run.train_args)
        .bind(5, run.config_json)
        .bind(6, now)
        .bind(7, now)
        .run();
    id = db_->last_insert_rowid();
    const std::string dir = workspace_ + "/experiments/" + run.experiment + "/runs/" + std::to_string(id);
    db_->prepare("UPDATE runs SET run_dir = ? WHERE id = ?").bind(1, dir).bind(2, id).run();
    db_->prepare("INSERT INTO run_events(run_id, status, at) VALUES (?, 'Queued', ?)").bind(1, id).bind(2, now).run();
    ensure_writable_dir(dir + "/logs");
    ensure_writable_dir(dir + "/outputs");
    tx.commit();
  }
  return id;
}

RunRecord RunStore::get_run(int64_t id) {
  Statement s = db_->prepare(std::string("SELECT ") + kRunColumns + " FROM runs r WHERE r.id = ?");
  s.bind(1, id);
  if (!s.step()) ROOST_USAGE_ERROR("no run ", id, " in ", db_path());
  return read_run(s);
}

std::vector<RunRecord> RunStore::list_runs(const std::string& experiment) {
  Statement s = db_->prepare(std::string("SELECT ") + kRunColumns +
                             " FROM runs r WHERE ?1 = '' OR r.experiment = ?1 ORDER BY r.id");
  s.bind(1, experiment);
  std::vector<RunRecord> out;
  while (s.step()) out.push_back(read_run(s));
  return out;
}

std::vector<StatusEvent> RunStore::events(int64_t id) {
  Statement s = db_->prepare("SELECT status, at, note FROM run_events WHERE run_id = ? ORDER BY rowid");
  s.bind(1, id);
  std::vector<StatusEvent> out;
  while (s.step()) out.push_back({parse_status(s.get_text(0)), s.get_double(1), s.get_text(2)});
  return out;
}

bool RunStore::set_status(int64_t id, RunStatus status, const std::string& note) {
  Transaction tx(*db_);  // read and write under one lock: a cancel and a monitor may race
  const RunStatus current = get_run(id).status;
  if (is_terminal(current) || current == status) return false;
  if (status < current)
    ROOST_THROW("run ", id, ": status cannot go back from ", to_string(current), " to ", to_string(status));
  const double now = now_seconds();
  db_->prepare("UPDATE runs SET status = ?, updated_at = ? WHERE id = ?")
      .bind(1, to_string(status))
      .bind(2, now)
      .bind(3, id)
      .run();
  db_->prepare("INSERT INTO run_events(run_id, status, at, note) VALUES (?, ?, ?, ?)")
      .bind(1, id)
      .bind(2, to_string(status))
      .bind(3, now)
      .bind(4, note)
      .run();
  tx.commit();
  return true;
}

void RunStore::record_restart(int64_t id, int np, const std::string& note) {
  Transaction tx(*db_);
  const RunStatus current = get_run(id).status;
  ROOST_CHECK(current == RunStatus::kRunning, "run ", id, " is ", to_string(current), ", not Running: no restart");
  const double now = now_seconds();
  db_->prepare("UPDATE runs SET np = ?, updated_at = ? WHERE id = ?").bind(1, np).bind(2, now).bind(3, id).run();
  db_->prepare("INSERT INTO run_events(run_id, status, at, note) VALUES (?, 'Running', ?, ?)")
      .bind(1, id)
      .bind(2, now)
      .bind(3, note)
      .run();
  tx.commit();
}

void RunStore::set_command(int64_t id, const std::string& command) {
  db_->prepare("UPDATE runs SET command = ? WHERE id = ?").bind(1, command).bind(2, id).run();
}

void RunStore::set_launch(int64_t id, int64_t pgid, const std::string& scheduler_id, int64_t monitor_pid) {
  db_->prepare("UPDATE runs SET pgid = ?, scheduler_id = ?, monitor_pid = ? WHERE id = ?")
      .bind(1, pgid)
      .bind(2, scheduler_id)
      .bind(3, monitor_pid)
      .bind(4, id)
      .run();
}

void RunStore::set_result(int64_t id, int exit_code, const std::string& message) {
  db_->prepare("UPDATE runs SET exit_code = ?, message = ? WHERE id = ?")
      .bind(1, exit_code)
      .bind(2, message)
      .bind(3, id)
      .run();
}

void RunStore::set_monitor(int64_t id, int64_t monitor_pid) {
  db_->prepare("UPDATE runs SET monitor_pid = ? WHERE id = ?").bind(1, monitor_pid).bind(2, id).run();
}

int RunStore::ingest_metrics(int64_t id, const std::vector<std::string>& lines) {
  if (lines.empty()) return 0;
  Transaction tx(*db_);
  // SQLite's JSON functions pick out the epoch, so a row is stored exactly as training wrote it.
  Statement s = db_->prepare(
      "INSERT OR REPLACE INTO metrics(run_id, epoch, data) SELECT ?1, json_extract(?2, '$.epoch'), json(?2) "
      "WHERE json_valid(?2) AND json_type(?2) = 'object' AND json_type(?2, '$.epoch') = 'integer'");
  int stored = 0;
  for (const auto& line : lines) {
    s.reset();
    s.bind(1, id).bind(2, line).run();
    stored += db_->changes();
  }
  tx.commit();
  return stored;
}

std::vector<std::string> RunStore::metrics(int64_t id) {
  Statement s = db_->prepare("SELECT data FROM metrics WHERE run_id = ? ORDER BY epoch");
  s.bind(1, id);
  std::vector<std::string> out;
  while (s.step()) out.push_back(s.get_text(0));
  return out;
}

}  // namespace roost::run
