// trials.cc — a trial's command line and parameters, the sweep's recorded settings, checking
// every trial's options before a sweep starts, and the summary of a recorded sweep.
#include <cmath>
#include <set>

#include "roost/core/error.h"
#include "roost/core/json.h"
#include "roost/sweep/driver.h"
#include "roost/sweep/sweep_store.h"

namespace roost::sweep {

namespace {
std::string describe(const SweepConfig& c, const Assignment& a) {
  std::string out;
  for (size_t k = 0; k < a.size(); ++k) out += (k ? " " : "") + c.space[k].name + "=" + a[k].word;
  return out;
}

void check_one(const SweepConfig& c, const Assignment& a, const std::string& which) {
  try {
    c.check_train_args(trial_train_args(c, a));
  } catch (const UsageError& e) {
    ROOST_USAGE_ERROR(which, " (", describe(c, a), "): ", e.message());
  }
}

// Each dimension's bounds, the other dimensions at their first bound.
std::vector<Assignment> boundary_assignments(const SweepConfig& c) {
  Assignment base;
  for (const auto& d : c.space) base.push_back(boundary_values(d).front());
  std::vector<Assignment> out;
  for (size_t k = 0; k < c.space.size(); ++k)
    for (const Value& v : boundary_values(c.space[k])) {
      Assignment a = base;
      a[k] = v;
      out.push_back(a);
    }
  return out;
}
}  // namespace

std::vector<std::string> trial_train_args(const SweepConfig& c, const Assignment& values) {
  std::vector<std::string> args = c.trial.launch.train_args;
  for (size_t k = 0; k < values.size(); ++k) args.push_back("--" + c.space[k].name + "=" + values[k].word);
  return args;
}

std::string params_json(const SweepConfig& c, const Assignment& values) {
  JsonObject o;
  for (size_t k = 0; k < values.size(); ++k) o.add(c.space[k].name, values[k].word);
  return o.str();
}

std::string settings_json(const SweepConfig& c) {
  JsonObject space, policy, o;
  for (const auto& d : c.space) space.add(d.name, d.spec);
  policy.add("name", to_string(c.policy.kind)).add("evaluation_interval", c.policy.evaluation_interval);
  policy.add("delay_evaluation", c.policy.delay_evaluation);
  if (c.policy.slack_factor > 0) policy.add("slack_factor", c.policy.slack_factor);
  if (c.policy.slack_amount > 0) policy.add("slack_amount", c.policy.slack_amount);
  if (c.policy.truncation_percentage > 0) policy.add("truncation_percentage", c.policy.truncation_percentage);
  o.add("metric", c.metric).add("goal", c.goal == Goal::kMaximize ? "max" : "min").add("sampling", c.sampling);
  o.add("seed", static_cast<int64_t>(c.seed)).add("max_runs", c.max_runs).add("max_concurrent", c.max_concurrent);
  o.add("target", run::to_string(c.trial.launch.target)).add("np", c.trial.launch.np);
  o.raw("space", space.str()).raw("policy", policy.str());
  return o.str();
}

void check_trials(const SweepConfig& c) {
  if (c.sampling == "bayesian" || c.sampling == "tpe") {
    for (const auto& a : boundary_assignments(c)) check_one(c, a, "a trial at the edge of the space");
    return;
  }
  auto sampler = make_sampler(c.sampling, c.space, c.seed, c.goal, c.tpe);
  std::set<std::string> seen;  // a grid repeats no trial, random ones rarely do
  for (int i = 0; i < c.max_runs; ++i) {
    const auto a = sampler->next(i, {});
    if (!a) break;
    if (seen.insert(describe(c, *a)).second) check_one(c, *a, "trial " + std::to_string(i));
  }
}

SweepResult summarize_sweep(run::RunStore& runs, int64_t id, const std::string& metric, Goal goal) {
  SweepStore store(runs);
  SweepResult r;
  r.status = store.get_sweep(id).status;
  for (const auto& t : store.trials(id)) {
    ++r.trials;
    if (!t.stopped_by.empty() && t.stopped_by != kInterrupted) ++r.stopped_by_policy;
    const std::vector<double> values = store.metric_values(t.run_id, metric);
    r.trial_epochs += static_cast<int>(values.size());
    for (double v : values) {
      if (!std::isfinite(v)) continue;
      const bool better = goal == Goal::kMaximize ? v > r.best_value : v < r.best_value;
      if (!r.best_trial || better) r.best_trial = t.trial, r.best_run = t.run_id, r.best_value = v;
    }
  }
  return r;
}

}  // namespace roost::sweep
