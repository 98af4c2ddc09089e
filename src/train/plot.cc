// roost/train/plot.cc — the training-curve figure drawn with cairo: title and legend on top,
// then loss, accuracy (%) and throughput panels with grid, ticks and axis titles in DejaVu
// Sans; cairo encodes the PNG and the file is replaced atomically.
#include "roost/train/plot.h"

#include <cairo.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "plot_axis.h"
#include "plot_draw.h"
#include "roost/core/error.h"
#include "roost/core/fs.h"

namespace roost::train {

namespace {

// Sizes are in pixels.
constexpr double kTitleSize = 16, kPanelTitleSize = 14, kAxisTitleSize = 13, kTickSize = 12;

constexpr int kHeaderHeight = 40;  // figure title and legend; the panels start below
constexpr int kPanelWidth = kCurvesWidth / 3;
// Frame of the plot area inside its panel: room on the left for the y tick labels and the
// rotated axis title, below for the x tick labels and "epoch", above for the panel title.
constexpr int kFrameLeft = 84, kFrameRight = 16, kFrameTop = kHeaderHeight + 32, kFrameBottom = 50;
// Data are mapped this far inside the frame, so markers on the range's ends are not cut.
constexpr int kInset = 10;
// Below this spacing between epochs markers would merge into a band; the line alone is
// drawn, with markers only on points that have no neighbour to join.
constexpr double kMinMarkerSpacing = 7.0;
// Halos are drawn only where markers are this far apart; on closer markers they would cut
// the line into beads.
constexpr double kMinHaloSpacing = 20.0;

struct Series {
  std::string label;
  std::vector<double> values;  // one per epoch; non-finite values are gaps
  PlotColor color;
  Marker marker;
};

struct Panel {
  std::string title;       // above the frame
  std::string axis_title;  // along the y axis; PanelAxis::title
  std::vector<Series> series;
  double ceiling;           // where the y axis stops widening (100 for percentages)
  const char* tick_suffix;  // appended to every y tick label
};

struct Rect {
  double x0, y0, x1, y1;
};

Axis panel_axis(const Panel& panel) {
  std::vector<double> all_values;
  for (const auto& s : panel.series) all_values.insert(all_values.end(), s.values.begin(), s.values.end());
  // An empty percent panel still shows the whole scale, not 0-1 %.
  const bool any = std::any_of(all_values.begin(), all_values.end(), [](double v) { return std::isfinite(v); });
  if (!any && std::isfinite(panel.ceiling)) all_values = {0.0, panel.ceiling};
  // Losses, accuracies and throughputs are never negative: a flat zero sits on the bottom.
  Axis axis = value_axis(all_values, 5, 0.0, panel.ceiling);
  for (auto& label : axis.labels) label += panel.tick_suffix;
  return axis;
}

// --- the figure ------------------------------------------------------------------------

// Keeps a mapped coordinate within a few canvases of the image, inside cairo's fixed-point
// range whatever the data.
double clamp_pixel(double v) { return std::clamp(v, -4.0 * kCurvesWidth, 4.0 * kCurvesWidth); }

void draw_series(cairo_t* cr, const Series& series, const std::vector<double>& epochs, const Axis& x_axis,
                 const Axis& y_axis, const Rect& area) {
  auto map_x = [&](double e) {
    return clamp_pixel(area.x0 + (e - x_axis.lo) / (x_axis.hi - x_axis.lo) * (area.x1 - area.x0));
  };
  auto map_y = [&](double v) {
    return clamp_pixel(area.y1 - (v - y_axis.lo) / (y_axis.hi - y_axis.lo) * (area.y1 - area.y0));
  };
  const size_t n = epochs.size();
  const double spacing = (area.x1 - area.x0) / (x_axis.hi - x_axis.lo);  // pixels per epoch
  auto finite = [&](size_t i) { return i < n && std::isfinite(series.values[i]); };

  // Runs of consecutive finite values become one polyline each.
  set_color(cr, series.color);
  cairo_set_line_width(cr, kLineWidth);
  cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
  cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
  for (size_t i = 0; i < n; ++i) {
    if (!finite(i)) continue;
    if (i == 0 || !finite(i - 1)) cairo_move_to(cr, map_x(epochs[i]), map_y(series.values[i]));
    else cairo_line_to(cr, map_x(epochs[i]), map_y(series.values[i]));
  }
  cairo_stroke(cr);
  for (size_t i = 0; i < n; ++i) {
    if (!finite(i)) continue;
    const bool isolated = (i == 0 || !finite(i - 1)) && !finite(i + 1);
    if (spacing >= kMinMarkerSpacing || isolated)
      draw_marker(cr, map_x(epochs[i]), map_y(series.values[i]), series.marker, series.color,
                  spacing >= kMinHaloSpacing);
  }
}

void draw_panel(cairo_t* cr, int panel_x, const Panel& panel, const std::vector<double>& epochs, const Axis& x_axis) {
  const Rect frame{panel_x + double(kFrameLeft), double(kFrameTop), panel_x + double(kPanelWidth - kFrameRight),
                   double(kCurvesHeight - kFrameBottom)};
  const Rect area{frame.x0 + kInset, frame.y0 + kInset, frame.x1 - kInset, frame.y1 - kInset};
  const Axis y_axis = panel_axis(panel);
  const bool has_data = std::any_of(panel.series.begin(), panel.series.end(), [](const Series& s) {
    return std::any_of(s.values.begin(), s.values.end(), [](double v) { return std::isfinite(v); });
  });

  // Grid lines and tick labels; the outer ticks may fall in the inset, still inside the frame.
  set_font(cr, kTickSize);
  const double half = digit_half_height(cr);
  double widest_label = 0;
  for (size_t i = 0; i < y_axis.ticks.size(); ++i) {
    const double f = (y_axis.ticks[i] - y_axis.lo) / (y_axis.hi - y_axis.lo);
    const double y = std::round(area.y1 - f * (area.y1 - area.y0));
    crisp_line(cr, frame.x0, y, frame.x1, y, kGrid);
    crisp_line(cr, frame.x0 - 5, y, frame.x0, y, kFrame);
    draw_text(cr, frame.x0 - 8, y + half, y_axis.labels[i], Align::kRight, kInk);
    widest_label = std::max(widest_label, text_width(cr, y_axis.labels[i]));
  }
  for (size_t i = 0; i < x_axis.ticks.size(); ++i) {
    const double f = (x_axis.ticks[i] - x_axis.lo) / (x_axis.hi - x_axis.lo);
    const double x = std::round(area.x0 + f * (area.x1 - area.x0));
    crisp_line(cr, x, frame.y0, x, frame.y1, kGrid);
    crisp_line(cr, x, frame.y1, x, frame.y1 + 5, kFrame);
    draw_text(cr, x + 0.5, frame.y1 + 20, x_axis.labels[i], Align::kCenter, kInk);
  }
  set_color(cr, kFrame);
  cairo_set_line_width(cr, 1.0);
  cairo_rectangle(cr, frame.x0 + 0.5, frame.y0 + 0.5, frame.x1 - frame.x0, frame.y1 - frame.y0);
  cairo_stroke(cr);

  set_font(cr, kPanelTitleSize, true);
  draw_text(cr, (frame.x0 + frame.x1) / 2, frame.y0 - 10, panel.title, Align::kCenter, kInk);
  set_font(cr, kAxisTitleSize);
  draw_text(cr, (frame.x0 + frame.x1) / 2, frame.y1 + 40, "epoch", Align::kCenter, kMuted);
  // The y axis title reads bottom to top, just left of the widest tick label.
  cairo_save(cr);
  cairo_translate(cr, std::max(panel_x + 18.0, frame.x0 - 14 - widest_label), (frame.y0 + frame.y1) / 2);
  cairo_rotate(cr, -M_PI / 2);
  draw_text(cr, 0, 0, panel.axis_title, Align::kCenter, kMuted);
  cairo_restore(cr);

  if (!has_data) {
    draw_text(cr, (frame.x0 + frame.x1) / 2, (frame.y0 + frame.y1) / 2, "no data", Align::kCenter, kMuted);
    return;
  }
  // Later series are drawn over earlier ones: validation first, training on top. Nothing
  // leaves the frame, whatever the values.
  cairo_save(cr);
  cairo_rectangle(cr, frame.x0 + 1, frame.y0 + 1, frame.x1 - frame.x0 - 1, frame.y1 - frame.y0 - 1);
  cairo_clip(cr);
  for (auto it = panel.series.rbegin(); it != panel.series.rend(); ++it)
    draw_series(cr, *it, epochs, x_axis, y_axis, area);
  cairo_restore(cr);
}

// Title on the left, the train/validation legend (shared by the loss and accuracy panels)
// on the right. A title too long for the space left is cut and ends in "…".
void draw_header(cairo_t* cr, const std::string& title) {
  struct Entry {
    const char* label;
    PlotColor color;
    Marker marker;
  };
  const Entry entries[] = {{"train", kTrainColor, Marker::kDisc}, {"validation", kValColor, Marker::kSquare}};
  constexpr double kSwatch = 28, kSwatchGap = 7, kEntryGap = 22, kMargin = 18;
  const double baseline = 26;
  set_font(cr, kAxisTitleSize);
  const double mid_y = baseline - digit_half_height(cr);
  double legend_w = -kEntryGap;
  for (const auto& e : entries) legend_w += kSwatch + kSwatchGap + text_width(cr, e.label) + kEntryGap;
  double x = kCurvesWidth - kMargin - legend_w;
  const double legend_x = x;
  for (const auto& e : entries) {
    set_color(cr, e.color);
    cairo_set_line_width(cr, kLineWidth);
    cairo_move_to(cr, x, mid_y);
    cairo_line_to(cr, x + kSwatch, mid_y);
    cairo_stroke(cr);
    draw_marker(cr, x + kSwatch / 2, mid_y, e.marker, e.color, true);
    x += kSwatch + kSwatchGap;
    draw_text(cr, x, baseline, e.label, Align::kLeft, kInk);
    x += text_width(cr, e.label) + kEntryGap;
  }

  set_font(cr, kTitleSize, true);
  const double room = legend_x - 40 - kMargin;
  std::string shown = printable_utf8(title);
  if (text_width(cr, shown) > room) {
    // Cut whole characters (never inside a UTF-8 sequence) until the rest and "…" fit.
    while (!shown.empty() && text_width(cr, shown + "\u2026") > room) {
      size_t cut = shown.size() - 1;
      while (cut > 0 && (static_cast<unsigned char>(shown[cut]) >> 6) == 0x2) --cut;
      shown.resize(cut);
    }
    shown += "\u2026";
  }
  draw_text(cr, kMargin, baseline, shown, Align::kLeft, kInk);
}

struct Figure {
  std::vector<double> epochs;
  std::vector<Panel> panels;  // loss, accuracy (%), throughput
};

Figure make_figure(const std::vector<EpochPoint>& sorted) {
  Figure f;
  Series train_loss{"train", {}, kTrainColor, Marker::kDisc}, val_loss{"validation", {}, kValColor, Marker::kSquare};
  Series train_acc = train_loss, val_acc = val_loss;
  Series throughput{"images/s", {}, kThroughputColor, Marker::kDisc};
  for (const auto& p : sorted) {
    f.epochs.push_back(p.epoch);
    train_loss.values.push_back(p.train_loss);
    val_loss.values.push_back(p.val_loss);
    train_acc.values.push_back(p.train_acc * 100);  // fractions drawn as percentages; NaN stays NaN
    val_acc.values.push_back(p.val_acc * 100);
    throughput.values.push_back(p.images_per_sec);
  }
  f.panels = {{"Loss", "loss", {train_loss, val_loss}, INFINITY, ""},
              {"Accuracy", "accuracy (%)", {train_acc, val_acc}, 100.0, "%"},
              {"Throughput", "throughput (images/s)", {throughput}, INFINITY, ""}};
  return f;
}

std::vector<EpochPoint> by_epoch(const std::vector<EpochPoint>& points) {
  std::vector<EpochPoint> sorted = points;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const EpochPoint& a, const EpochPoint& b) { return a.epoch < b.epoch; });
  return sorted;
}

}  // namespace

std::vector<PanelAxis> training_curve_axes(const std::vector<EpochPoint>& points) {
  std::vector<PanelAxis> out;
  for (const Panel& panel : make_figure(by_epoch(points)).panels) {
    const Axis y = panel_axis(panel);
    out.push_back({panel.axis_title, y.lo, y.hi, y.labels});
  }
  return out;
}

void write_training_curves_png(const std::string& path, const std::vector<EpochPoint>& points,
                               const std::string& title) {
  const std::vector<EpochPoint> sorted = by_epoch(points);
  const Figure figure = make_figure(sorted);
  const Axis x_axis = sorted.empty() ? epoch_axis(0, 1, 6) : epoch_axis(sorted.front().epoch, sorted.back().epoch, 6);

  // RGB24: opaque pixels, so the PNG has no alpha channel.
  std::unique_ptr<cairo_surface_t, SurfaceFree> surface(
      cairo_image_surface_create(CAIRO_FORMAT_RGB24, kCurvesWidth, kCurvesHeight));
  std::unique_ptr<cairo_t, ContextFree> context(cairo_create(surface.get()));
  cairo_t* cr = context.get();
  set_color(cr, kBackground);
  cairo_paint(cr);
  draw_header(cr, title);
  for (int i = 0; i < 3; ++i) draw_panel(cr, i * kPanelWidth, figure.panels[i], figure.epochs, x_axis);
  if (cairo_status(cr) != CAIRO_STATUS_SUCCESS)
    ROOST_THROW("cannot draw training curves for ", path, ": ", cairo_status_to_string(cairo_status(cr)));

  save_png(surface.get(), path, "training curves");
}

}  // namespace roost::train
