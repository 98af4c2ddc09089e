// sweep_store.cc — the sweeps and sweep_trials tables (the schema is the run store's, version 3).
#include "roost/sweep/sweep_store.h"

#include <cmath>

#include "roost/core/error.h"
#include "roost/run/documents.h"

namespace roost::sweep {

namespace {
SweepRecord read_sweep(const run::Statement& s) {
  SweepRecord r;
  r.id = s.get_int(0);
  r.experiment = s.get_text(1);
  r.status = s.get_text(2);
  r.settings = s.get_text(3);
  r.argv = s.get_text(4);
  r.driver_pid = s.get_int(5);
  r.message = s.get_text(6);
  r.created_at = s.get_double(7);
  r.updated_at = s.get_double(8);
  return r;
}
constexpr const char* kSweepColumns =
    "id, experiment, status, settings, argv, driver_pid, message, created_at, updated_at";
}  // namespace

int64_t SweepStore::create_sweep(const std::string& experiment, const std::string& settings, const std::string& argv) {
  run::Database& db = runs_.db();
  const double now = run::now_seconds();
  run::Transaction tx(db);
  db.prepare("INSERT OR IGNORE INTO experiments(name, created_at) VALUES (?, ?)")
      .bind(1, experiment)
      .bind(2, now)
      .run();
  db.prepare(
        "INSERT INTO sweeps(experiment, status, settings, argv, created_at, updated_at) VALUES (?, 'Running', ?, ?, ?, "
        "?)")
      .bind(1, experiment)
      .bind(2, settings)
      .bind(3, argv)
      .bind(4, now)
      .bind(5, now)
      .run();
  const int64_t id = db.last_insert_rowid();
  tx.commit();
  return id;
}

SweepRecord SweepStore::get_sweep(int64_t id) {
  run::Statement s = runs_.db().prepare(std::string("SELECT ") + kSweepColumns + " FROM sweeps WHERE id = ?");
  s.bind(1, id);
  if (!s.step()) ROOST_USAGE_ERROR("no sweep ", id, " in ", runs_.db_path(), " (roost sweeps list shows them)");
  return read_sweep(s);
}

std::vector<SweepRecord> SweepStore::list_sweeps() {
  run::Statement s = runs_.db().prepare(std::string("SELECT ") + kSweepColumns + " FROM sweeps ORDER BY id");
  std::vector<SweepRecord> out;
  while (s.step()) out.push_back(read_sweep(s));
  return out;
}

void SweepStore::set_status(int64_t id, const std::string& status, const std::string& message) {
  runs_.db()
      .prepare("UPDATE sweeps SET status = ?, message = ?, updated_at = ? WHERE id = ?")
      .bind(1, status)
      .bind(2, message)
      .bind(3, run::now_seconds())
      .bind(4, id)
      .run();
}

void SweepStore::set_driver(int64_t id, int64_t pid) {
  runs_.db()
      .prepare("UPDATE sweeps SET driver_pid = ?, updated_at = ? WHERE id = ?")
      .bind(1, pid)
      .bind(2, run::now_seconds())
      .bind(3, id)
      .run();
}

void SweepStore::add_trial(int64_t sweep, int trial, int64_t run_id, const std::string& params) {
  runs_.db()
      .prepare("INSERT INTO sweep_trials(sweep_id, trial, run_id, params) VALUES (?, ?, ?, ?)")
      .bind(1, sweep)
      .bind(2, trial)
      .bind(3, run_id)
      .bind(4, params)
      .run();
}

void SweepStore::replace_run(int64_t sweep, int trial, int64_t run_id) {
  runs_.db()
      .prepare(
          "UPDATE sweep_trials SET previous_runs = trim(previous_runs || ',' || run_id, ','), run_id = ?, "
          "stopped_by = '' WHERE sweep_id = ? AND trial = ?")
      .bind(1, run_id)
      .bind(2, sweep)
      .bind(3, trial)
      .run();
}

void SweepStore::set_stopped_by(int64_t sweep, int trial, const std::string& text) {
  runs_.db()
      .prepare("UPDATE sweep_trials SET stopped_by = ? WHERE sweep_id = ? AND trial = ?")
      .bind(1, text)
      .bind(2, sweep)
      .bind(3, trial)
      .run();
}

std::vector<TrialRecord> SweepStore::trials(int64_t sweep) {
  std::vector<TrialRecord> out;
  {
    run::Statement s = runs_.db().prepare(
        "SELECT trial, run_id, params, stopped_by, previous_runs FROM sweep_trials WHERE sweep_id = ? ORDER BY trial");
    s.bind(1, sweep);
    while (s.step())
      out.push_back({static_cast<int>(s.get_int(0)), s.get_int(1), s.get_text(2), s.get_text(3), s.get_text(4), {}});
  }
  for (auto& t : out) t.run = runs_.get_run(t.run_id);
  return out;
}

std::vector<double> SweepStore::metric_values(int64_t run_id, const std::string& metric) {
  run::Statement s =
      runs_.db().prepare("SELECT json_extract(data, '$.' || ?) FROM metrics WHERE run_id = ? ORDER BY epoch");
  s.bind(1, metric).bind(2, run_id);
  std::vector<double> out;
  while (s.step()) out.push_back(s.get_optional_double(0).value_or(NAN));
  return out;
}

std::pair<int64_t, int> SweepStore::trial_of_run(int64_t run_id) {
  const auto tag = run::sweep_trial_of(runs_, run_id);
  return tag ? std::pair<int64_t, int>{tag->sweep, tag->trial} : std::pair<int64_t, int>{0, -1};
}

std::vector<std::string> SweepStore::json_strings(const std::string& json) {
  run::Statement s = runs_.db().prepare("SELECT value FROM json_each(?)");
  s.bind(1, json);
  std::vector<std::string> out;
  while (s.step()) out.push_back(s.get_text(0));
  return out;
}

std::vector<std::pair<std::string, std::string>> SweepStore::json_members(const std::string& json_object) {
  run::Statement s = runs_.db().prepare("SELECT key, value FROM json_each(?)");
  s.bind(1, json_object);
  std::vector<std::pair<std::string, std::string>> out;
  while (s.step()) out.emplace_back(s.get_text(0), s.get_text(1));
  return out;
}

}  // namespace roost::sweep
