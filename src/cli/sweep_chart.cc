// sweep_chart.cc — the PNG of a recorded sweep: its trials' curves and one panel per parameter.
#include "sweep_chart.h"

#include <cmath>
#include <filesystem>

#include "roost/train/plot.h"

namespace roost::cli {

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
