// sweep_chart.cc — reading a recorded sweep for `roost sweeps`, and its PNG.
#include "sweep_chart.h"

#include <cmath>
#include <filesystem>

#include "roost/train/plot.h"

namespace roost::cli {

const TrialView* SweepView::best() const {
  const TrialView* out = nullptr;
  for (const auto& t : trials)
    if (t.best && (!out || (maximize ? *t.best > *out->best : *t.best < *out->best))) out = &t;
  return out;
}

std::optional<double> SweepView::best_value() const {
  const TrialView* b = best();
  return b ? b->best : std::nullopt;
}

int SweepView::trial_epochs() const {
  int n = 0;
  for (const auto& t : trials) n += static_cast<int>(t.values.size());
  return n;
}

SweepView sweep_view(sweep::SweepStore& store, int64_t id) {
  SweepView v;
  for (const auto& [key, value] : store.json_members(store.get_sweep(id).settings)) {
    if (key == "metric") v.metric = value;
    if (key == "goal") v.maximize = value == "max";
    if (key == "policy")
      for (const auto& [k, name] : store.json_members(value))
        if (k == "name") v.policy = name;
    if (key == "space")
      for (const auto& [name, spec] : store.json_members(value))
        v.space.push_back(sweep::parse_dimension(name + "=" + spec));
  }
  for (auto& record : store.trials(id)) {
    TrialView t{record, store.metric_values(record.run_id, v.metric), std::nullopt};
    for (double x : t.values)
      if (std::isfinite(x) && (!t.best || (v.maximize ? x > *t.best : x < *t.best))) t.best = x;
    v.trials.push_back(std::move(t));
  }
  return v;
}

namespace {
std::string axis_title(const sweep::Dimension& d) {
  if (sweep::is_log(d)) return "log10(" + d.name + ")";
  if (d.kind != sweep::SpaceKind::kChoice) return d.name;
  std::string out = d.name + " (";
  for (size_t i = 0; i < d.choices.size(); ++i) out += (i ? ", " : "") + std::to_string(i) + "=" + d.choices[i];
  return out + ")";
}

train::Chart parameter_chart(sweep::SweepStore& store, const SweepView& v, const sweep::Dimension& d) {
  train::Chart c{v.metric + " vs " + d.name, axis_title(d), "best " + v.metric, {}};
  for (size_t i = 0; i < v.trials.size(); ++i) {
    const TrialView& t = v.trials[i];
    if (!t.best) continue;
    for (const auto& [name, word] : store.json_members(t.record.params)) {
      if (name != d.name) continue;
      const double x = sweep::value_of_word(d, word).number;
      c.series.push_back({{sweep::is_log(d) ? std::log10(x) : x}, {*t.best}, train::palette_color(i), false});
    }
  }
  return c;
}
}  // namespace

void write_sweep_png(const std::string& path, sweep::SweepStore& store, const sweep::SweepRecord& sweep,
                     const SweepView& v) {
  std::vector<train::Chart> charts;
  train::Chart curves{v.metric + " per epoch", "epoch", v.metric, {}};
  std::vector<train::LegendEntry> legend;
  for (size_t i = 0; i < v.trials.size(); ++i) {
    const TrialView& t = v.trials[i];
    train::ChartSeries s{{}, t.values, train::palette_color(i), true};
    for (size_t k = 0; k < t.values.size(); ++k) s.x.push_back(double(k + 1));
    curves.series.push_back(s);
    legend.push_back({"trial " + std::to_string(t.record.trial) + (t.record.stopped_by.empty() ? "" : " (stopped)"),
                      train::palette_color(i)});
  }
  charts.push_back(curves);
  for (const auto& d : v.space) charts.push_back(parameter_chart(store, v, d));
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  train::write_charts_png(path, charts, "sweep " + std::to_string(sweep.id) + " of " + sweep.experiment, legend);
}

}  // namespace roost::cli
