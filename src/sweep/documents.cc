// documents.cc — a recorded sweep read back from the store and its JSON documents (see
// roost/sweep/documents.h); absent values are null.
#include "roost/sweep/documents.h"

#include <algorithm>
#include <cmath>
#include <regex>

#include "roost/core/json.h"
#include "roost/run/process.h"

namespace roost::sweep {

const TrialView* SweepView::best(bool completed_only) const {
  const TrialView* out = nullptr;
  for (const auto& t : trials) {
    if (completed_only && t.record.run.status != run::RunStatus::kCompleted) continue;
    if (t.best && (!out || (maximize ? *t.best > *out->best : *t.best < *out->best))) out = &t;
  }
  return out;
}

namespace {
// The epochs of a trial that count towards its best: a trial the policy canceled at epoch K
// counts its first K (a short epoch may be recorded while the cancel is on its way; the
// policy judged the trial without it).
size_t counted_epochs(const TrialRecord& record, size_t recorded) {
  static const std::regex at(R"(^early termination by \w+ at epoch (\d+))");
  std::smatch m;
  if (record.run.status == run::RunStatus::kCanceled && std::regex_search(record.stopped_by, m, at))
    return std::min(recorded, static_cast<size_t>(std::stoul(m[1].str())));
  return recorded;
}
}  // namespace

std::optional<double> SweepView::best_value() const {
  const TrialView* b = best();
  return b ? b->best : std::nullopt;
}

int SweepView::trial_epochs() const {
  int n = 0;
  for (const auto& t : trials) n += static_cast<int>(t.values.size());
  return n;
}

SweepView sweep_view(SweepStore& store, int64_t id) {
  SweepView v;
  for (const auto& [key, value] : store.json_members(store.get_sweep(id).settings)) {
    if (key == "metric") v.metric = value;
    if (key == "goal") v.maximize = value == "max";
    if (key == "sampling") v.sampling = value;
    if (key == "policy")
      for (const auto& [k, name] : store.json_members(value))
        if (k == "name") v.policy = name;
    if (key == "space")
      for (const auto& [name, spec] : store.json_members(value)) v.space.push_back(parse_dimension(name + "=" + spec));
  }
  for (auto& record : store.trials(id)) {
    TrialView t{record, store.metric_values(record.run_id, v.metric), std::nullopt};
    const size_t counted = counted_epochs(record, t.values.size());
    for (size_t i = 0; i < counted; ++i) {
      const double x = t.values[i];
      if (std::isfinite(x) && (!t.best || (v.maximize ? x > *t.best : x < *t.best))) t.best = x;
    }
    v.trials.push_back(std::move(t));
  }
  return v;
}

std::string default_plot_path(const std::string& workspace, int64_t id) {
  return workspace + "/sweeps/" + std::to_string(id) + "/sweep.png";
}

namespace {
std::string optional_number(const std::optional<double>& v) { return v ? json_value(*v) : "null"; }

std::string trial_object(const TrialView& t) {
  JsonObject o;
  o.add("trial", t.record.trial).add("run", t.record.run_id).add("status", run::to_string(t.record.run.status));
  o.raw("params", t.record.params).add("epochs", static_cast<int>(t.values.size()));
  o.raw("best", optional_number(t.best)).add("stopped_by", t.record.stopped_by);
  o.add("previous_runs", t.record.previous_runs);
  std::string values = "[";
  for (double x : t.values) values += (values.size() > 1 ? "," : "") + json_value(x);
  o.raw("values", values + "]");
  return o.str();
}
}  // namespace

std::string sweep_document(const SweepRecord& s, const SweepView& v, const std::string& plot) {
  std::string trials = "[";
  for (const auto& t : v.trials) trials += (trials.size() > 1 ? "," : "") + trial_object(t);
  JsonObject out;
  out.add("sweep", s.id).add("experiment", s.experiment).add("status", s.status).add("message", s.message);
  out.raw("settings", s.settings).raw("trials", trials + "]").add("trial_epochs", v.trial_epochs());
  auto summary = [](const TrialView* t) {
    return t ? JsonObject()
                   .add("trial", t->record.trial)
                   .add("run", t->record.run_id)
                   .add("value", *t->best)
                   .raw("params", t->record.params)
                   .str()
             : std::string("null");
  };
  // Only a Completed run's model can be registered: the best of those, for `models register`.
  out.raw("best", summary(v.best())).raw("best_completed", summary(v.best(true)));
  out.add("plot", plot);
  return out.str();
}

std::string sweeps_document(SweepStore& store) {
  std::string sweeps = "[";
  for (const auto& s : store.list_sweeps()) {
    const SweepView v = sweep_view(store, s.id);
    // A Running sweep whose driver is gone: roost sweep --resume continues it.
    const bool stale =
        s.status == "Running" && s.driver_pid > 0 && !run::process_alive(static_cast<pid_t>(s.driver_pid));
    JsonObject o;
    o.add("id", s.id).add("experiment", s.experiment).add("status", s.status).add("driver_stale", stale);
    o.add("message", s.message).add("created_at", static_cast<int64_t>(s.created_at));
    o.add("updated_at", static_cast<int64_t>(s.updated_at));
    o.add("metric", v.metric).add("goal", v.maximize ? "max" : "min").add("sampling", v.sampling);
    o.add("policy", v.policy).add("trials", static_cast<int>(v.trials.size()));
    o.raw("best", optional_number(v.best_value()));
    sweeps += (sweeps.size() > 1 ? "," : "") + o.str();
  }
  return "{\"sweeps\": " + sweeps + "]}";
}

}  // namespace roost::sweep
