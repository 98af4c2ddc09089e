// roost/train/plot.h — training curves (loss, accuracy, throughput per epoch) drawn into a
// PNG with cairo: three panels side by side, axes with round ticks and titles, a legend,
// antialiased DejaVu Sans text; cairo also encodes the PNG.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace roost::train {

// One epoch's values. A value that was not measured (no validation split, a diverged loss)
// is left NaN or set to NaN/inf: it is skipped and the line breaks there. Accuracies are
// fractions in [0, 1], as in metrics.jsonl; they are drawn as percentages.
struct EpochPoint {
  int epoch = 0;
  double train_loss = std::numeric_limits<double>::quiet_NaN();
  double val_loss = std::numeric_limits<double>::quiet_NaN();
  double train_acc = std::numeric_limits<double>::quiet_NaN();
  double val_acc = std::numeric_limits<double>::quiet_NaN();
  double images_per_sec = std::numeric_limits<double>::quiet_NaN();
};

struct PlotColor {
  uint8_t r, g, b;
};

// The figure's size and the series colours, public so that readers of the image (tests,
// tools) can find each series by its colour.
inline constexpr int kCurvesWidth = 1200;
inline constexpr int kCurvesHeight = 400;
inline constexpr PlotColor kTrainColor{31, 119, 180};      // blue
inline constexpr PlotColor kValColor{230, 110, 10};        // orange
inline constexpr PlotColor kThroughputColor{44, 150, 44};  // green

// Draws the three panels for `points` (any order; drawn by epoch) under `title` and
// replaces `path` atomically (a temporary file in the same folder, fsync, rename). Empty
// input gives empty axes. Throws roost::Error naming `path` when it cannot be written.
// What a panel's y axis shows, as drawn: its range and tick labels (tests read these to
// check the figure's units, e.g. that an accuracy of 0.73 sits at "70%"-"80%", not at 7300).
// Accuracy ticks end in "%" and the axis never passes 100 %.
struct PanelAxis {
  std::string title;
  double lo = 0, hi = 1;
  std::vector<std::string> labels;
};
// Loss, accuracy (%) and throughput panels' y axes for `points`.
std::vector<PanelAxis> training_curve_axes(const std::vector<EpochPoint>& points);

void write_training_curves_png(const std::string& path, const std::vector<EpochPoint>& points,
                               const std::string& title);

// A general figure for other parts of roost (the sweep charts): panels of lines or points,
// three to a row, each panel kChartPanelWidth × kChartPanelHeight under a header with the
// title and a legend. Non-finite points are skipped (a line breaks there).
struct ChartSeries {
  std::vector<double> x, y;
  PlotColor color;
  bool lines = true;  // false: markers only (a scatter)
};
struct Chart {
  std::string title, x_title, y_title;
  std::vector<ChartSeries> series;
};
struct LegendEntry {
  std::string label;
  PlotColor color;
};
inline constexpr int kChartPanelWidth = 420;
inline constexpr int kChartPanelHeight = 360;
// One of ten distinguishable colours (tab10), by index, repeating.
PlotColor palette_color(size_t i);
// Draws the panels and replaces `path` atomically; Error naming `path` when it cannot be written.
void write_charts_png(const std::string& path, const std::vector<Chart>& charts, const std::string& title,
                      const std::vector<LegendEntry>& legend = {});

}  // namespace roost::train
