// documents.cc — builds the JSON documents of runs and models from the run store (see
// roost/run/documents.h); times are seconds since the epoch, absent values are null.
#include "roost/run/documents.h"

#include <nlohmann/json.hpp>

#include "roost/run/process.h"

namespace roost::run {

namespace {
using nlohmann::json;

json parsed_or_string(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  return j.is_discarded() ? json(text) : j;
}

// When the run first reached Running, and when it ended (null while it has not).
void add_times(json& j, const std::vector<StatusEvent>& history) {
  json started = nullptr, ended = nullptr;
  for (const auto& e : history) {
    if (e.status == RunStatus::kRunning && started.is_null()) started = e.at;
    if (is_terminal(e.status)) ended = e.at;
  }
  j["started_at"] = started;
  j["ended_at"] = ended;
  const double end = ended.is_null() ? now_seconds() : ended.get<double>();
  j["duration_s"] = started.is_null() ? json(nullptr) : json(end - started.get<double>());
}

json summary(RunStore& store, const RunRecord& run) {
  json j = {{"id", run.id},
            {"experiment", run.experiment},
            {"target", run.target},
            {"np", run.np},
            {"status", to_string(run.status)},
            {"created_at", run.created_at},
            {"updated_at", run.updated_at},
            {"epochs", run.epochs},
            {"message", run.message},
            {"restarts", run.restarts}};
  j["best_val_acc"] = run.best_val_acc ? json(*run.best_val_acc) : json(nullptr);
  j["exit_code"] = run.exit_code ? json(*run.exit_code) : json(nullptr);
  add_times(j, store.events(run.id));
  return j;
}
}  // namespace

std::string runs_document(RunStore& store, const std::string& experiment) {
  json runs = json::array();
  for (const auto& run : store.list_runs(experiment)) runs.push_back(summary(store, run));
  return json{{"runs", runs}}.dump();
}

std::optional<SweepTrialTag> sweep_trial_of(RunStore& store, int64_t run_id) {
  Statement s = store.db().prepare(
      "SELECT sweep_id, trial, params FROM sweep_trials WHERE run_id = ?1 OR ',' || previous_runs || ',' LIKE '%,' "
      "|| ?1 || ',%'");
  s.bind(1, run_id);
  if (!s.step()) return std::nullopt;
  return SweepTrialTag{s.get_int(0), static_cast<int>(s.get_int(1)), s.get_text(2)};
}

std::string run_document(RunStore& store, int64_t id) {
  const RunRecord run = store.get_run(id);
  json j = summary(store, run);
  j["run_dir"] = run.run_dir;
  j["command"] = run.command;
  j["train_args"] = parsed_or_string(run.train_args);
  j["scheduler_id"] = run.scheduler_id;
  // The monitor runs on the machine that submitted; where it is gone, nobody updates the run.
  j["monitor_stale"] =
      !is_terminal(run.status) && run.monitor_pid > 0 && !process_alive(static_cast<pid_t>(run.monitor_pid));
  const auto tag = sweep_trial_of(store, id);
  j["sweep"] = tag ? json{{"sweep", tag->sweep}, {"trial", tag->trial}, {"params", parsed_or_string(tag->params)}}
                   : json(nullptr);
  json history = json::array();
  for (const auto& e : store.events(id))
    history.push_back({{"status", to_string(e.status)}, {"at", e.at}, {"note", e.note}});
  j["history"] = history;
  json metrics = json::array();
  for (const auto& row : store.metrics(id)) metrics.push_back(parsed_or_string(row));
  j["metrics"] = metrics;
  return j.dump();
}

std::string models_document(RunStore& store, const std::string& name) {
  ModelRegistry registry(store);
  json models = json::array();
  for (const auto& m : registry.list(name)) {
    json files = json::array();
    for (const auto& f : registry.files(m.name, m.version))
      files.push_back({{"format", f.format}, {"path", f.path}, {"sha256", f.sha256}, {"size", f.size}});
    models.push_back({{"name", m.name},
                      {"version", m.version},
                      {"run_id", m.run_id},
                      {"path", m.path},
                      {"source_path", m.source_path},
                      {"sha256", m.sha256},
                      {"size", m.size},
                      {"created_at", m.created_at},
                      {"metrics", parsed_or_string(m.metrics)},
                      {"files", files}});
  }
  return json{{"models", models}}.dump();
}

}  // namespace roost::run
