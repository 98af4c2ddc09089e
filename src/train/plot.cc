// roost/train/plot.cc — lays out the training-curve figure (title and legend on top, then
// loss, accuracy and throughput panels), encodes it as PNG and replaces the file atomically.
#include "roost/train/plot.h"

#include <png.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "plot_axis.h"
#include "plot_canvas.h"
#include "roost/core/error.h"
#include "roost/core/fs.h"

namespace roost::train {

namespace {

constexpr PlotColor kBackground{255, 255, 255};
constexpr PlotColor kInk{35, 35, 35};         // titles and tick labels
constexpr PlotColor kMuted{120, 120, 120};    // axis label, "no data"
constexpr PlotColor kFrame{110, 110, 110};
constexpr PlotColor kGrid{228, 228, 228};

// Every text is the 5×8 font at 2×: 14 px capitals, readable at the figure's own size.
constexpr int kScale = 2;
constexpr int kHeaderHeight = 36;
constexpr int kPanelWidth = kCurvesWidth / 3;
// Frame of the plot area inside its panel: room on the left for y labels such as "0.125",
// below for the x labels and "epoch", above for the panel title.
constexpr int kFrameLeft = 74, kFrameRight = 18, kFrameTop = kHeaderHeight + 30, kFrameBottom = 52;
// Data are mapped this far inside the frame, so markers on the range's ends are not cut.
constexpr int kInset = 10;
constexpr double kLineWidth = 2.5;  // wide enough that every stretch keeps a solid core
constexpr double kDiscRadius = 3.6, kSquareHalf = 3.2, kHalo = 1.6;
// Below this spacing between epochs markers would merge into a band; the line alone is
// drawn, with markers only on points that have no neighbour to join.
constexpr double kMinMarkerSpacing = 7.0;
// Halos are drawn only where markers are this far apart; on closer markers they would cut
// the line into beads.
constexpr double kMinHaloSpacing = 20.0;

enum class Marker { kDisc, kSquare };

struct Series {
  std::string label;
  std::vector<double> values;  // one per epoch; non-finite values are gaps
  PlotColor color;
  Marker marker;
};

struct Panel {
  std::string title;
  std::vector<Series> series;
};

struct Rect {
  int x0, y0, x1, y1;
};

Axis panel_axis(const Panel& panel) {
  std::vector<double> all_values;
  for (const auto& s : panel.series) all_values.insert(all_values.end(), s.values.begin(), s.values.end());
  return value_axis(all_values, 5);
}

void draw_marker(Canvas& canvas, double x, double y, Marker marker, PlotColor color, bool halo) {
  // A white halo keeps the marker apart from lines that cross it.
  if (marker == Marker::kDisc) {
    if (halo) canvas.disc(x, y, kDiscRadius + kHalo, kBackground);
    canvas.disc(x, y, kDiscRadius, color);
  } else {
    if (halo) canvas.square(x, y, kSquareHalf + kHalo, kBackground);
    canvas.square(x, y, kSquareHalf, color);
  }
}

// Keeps a mapped coordinate within a few canvases of the image, so that the integer
// conversions in the rasteriser stay defined whatever the data.
double clamp_pixel(double v) { return std::clamp(v, -4.0 * kCurvesWidth, 4.0 * kCurvesWidth); }

void draw_series(Canvas& canvas, const Series& series, const std::vector<double>& epochs,
                 const Axis& x_axis, const Axis& y_axis, const Rect& area) {
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
  std::vector<PlotPoint> run;
  for (size_t i = 0; i <= n; ++i) {
    if (finite(i)) {
      run.push_back({map_x(epochs[i]), map_y(series.values[i])});
      continue;
    }
    canvas.polyline(run, kLineWidth, series.color);
    run.clear();
  }
  for (size_t i = 0; i < n; ++i) {
    if (!finite(i)) continue;
    const bool isolated = (i == 0 || !finite(i - 1)) && !finite(i + 1);
    if (spacing >= kMinMarkerSpacing || isolated)
      draw_marker(canvas, map_x(epochs[i]), map_y(series.values[i]), series.marker, series.color,
                  spacing >= kMinHaloSpacing);
  }
}

void draw_panel(Canvas& canvas, int panel_x, const Panel& panel, const std::vector<double>& epochs,
                const Axis& x_axis) {
  const Rect frame{panel_x + kFrameLeft, kFrameTop, panel_x + kPanelWidth - kFrameRight,
                   kCurvesHeight - kFrameBottom};
  const Rect area{frame.x0 + kInset, frame.y0 + kInset, frame.x1 - kInset, frame.y1 - kInset};
  const int text_h = Canvas::text_height(kScale);

  const Axis y_axis = panel_axis(panel);
  const bool has_data = std::any_of(panel.series.begin(), panel.series.end(), [](const Series& s) {
    return std::any_of(s.values.begin(), s.values.end(), [](double v) { return std::isfinite(v); });
  });

  // Grid and tick labels; the outer ticks may fall in the inset, still inside the frame.
  for (size_t i = 0; i < y_axis.ticks.size(); ++i) {
    const double f = (y_axis.ticks[i] - y_axis.lo) / (y_axis.hi - y_axis.lo);
    const int y = static_cast<int>(std::lround(area.y1 - f * (area.y1 - area.y0)));
    canvas.fill_rect(frame.x0, y, frame.x1, y + 1, kGrid);
    canvas.fill_rect(frame.x0 - 5, y, frame.x0, y + 1, kFrame);
    const std::string& label = y_axis.labels[i];
    canvas.text(frame.x0 - 9 - Canvas::text_width(label, kScale), y - text_h / 2, label, kScale, kInk);
  }
  for (size_t i = 0; i < x_axis.ticks.size(); ++i) {
    const double f = (x_axis.ticks[i] - x_axis.lo) / (x_axis.hi - x_axis.lo);
    const int x = static_cast<int>(std::lround(area.x0 + f * (area.x1 - area.x0)));
    canvas.fill_rect(x, frame.y0, x + 1, frame.y1, kGrid);
    canvas.fill_rect(x, frame.y1, x + 1, frame.y1 + 5, kFrame);
    const std::string& label = x_axis.labels[i];
    canvas.text(x - Canvas::text_width(label, kScale) / 2, frame.y1 + 9, label, kScale, kInk);
  }
  canvas.stroke_rect(frame.x0, frame.y0, frame.x1, frame.y1, kFrame);

  const int title_w = Canvas::text_width(panel.title, kScale);
  canvas.text((frame.x0 + frame.x1 - title_w) / 2, kHeaderHeight + 8, panel.title, kScale, kInk);
  const std::string x_label = "epoch";
  canvas.text((frame.x0 + frame.x1 - Canvas::text_width(x_label, kScale)) / 2, frame.y1 + 13 + text_h + 6,
              x_label, kScale, kMuted);

  if (!has_data) {
    const std::string note = "no data";
    canvas.text((frame.x0 + frame.x1 - Canvas::text_width(note, kScale)) / 2,
                (frame.y0 + frame.y1 - text_h) / 2, note, kScale, kMuted);
    return;
  }
  // Later series are drawn over earlier ones: validation first, training on top.
  for (auto it = panel.series.rbegin(); it != panel.series.rend(); ++it)
    draw_series(canvas, *it, epochs, x_axis, y_axis, area);
}

// Title on the left, the train/val legend (shared by the loss and accuracy panels) on the
// right. A title too long for the space left is cut and ends in "..".
void draw_header(Canvas& canvas, const std::string& title) {
  struct Entry {
    std::string label;
    PlotColor color;
    Marker marker;
  };
  const Entry entries[] = {{"train", kTrainColor, Marker::kDisc}, {"val", kValColor, Marker::kSquare}};
  constexpr int kSwatch = 26, kSwatchGap = 8, kEntryGap = 24;
  int legend_w = 0;
  for (const auto& e : entries) legend_w += kSwatch + kSwatchGap + Canvas::text_width(e.label, kScale) + kEntryGap;
  legend_w -= kEntryGap;

  const int text_y = (kHeaderHeight - Canvas::text_height(kScale)) / 2 + 2;
  int x = kCurvesWidth - 18 - legend_w;
  for (const auto& e : entries) {
    const double mid_y = text_y + Canvas::text_height(kScale) / 2.0;
    canvas.polyline({{x + 0.0, mid_y}, {x + double(kSwatch), mid_y}}, kLineWidth, e.color);
    draw_marker(canvas, x + kSwatch / 2.0, mid_y, e.marker, e.color, true);
    x += kSwatch + kSwatchGap;
    canvas.text(x, text_y, e.label, kScale, kInk);
    x += Canvas::text_width(e.label, kScale) + kEntryGap;
  }

  const int title_x = 18;
  const int room = kCurvesWidth - 18 - legend_w - 40 - title_x;
  const int max_chars = room / (6 * kScale);
  std::string shown = title;
  if (static_cast<int>(shown.size()) > max_chars) shown = shown.substr(0, std::max(0, max_chars - 2)) + "..";
  canvas.text(title_x, text_y, shown, kScale, kInk);
}

std::string encode_png(const Canvas& canvas, const std::string& path) {
  // libpng's simplified API reports errors in png.message instead of longjmp.
  png_image png{};
  png.version = PNG_IMAGE_VERSION;
  png.width = static_cast<png_uint_32>(canvas.width());
  png.height = static_cast<png_uint_32>(canvas.height());
  png.format = PNG_FORMAT_RGB;
  png_alloc_size_t size = 0;
  const void* pixels = canvas.pixels().data();
  if (!png_image_write_to_memory(&png, nullptr, &size, 0, pixels, 0, nullptr))
    ROOST_THROW("cannot encode training curves for ", path, ": ", png.message);
  std::string bytes(size, '\0');
  if (!png_image_write_to_memory(&png, bytes.data(), &size, 0, pixels, 0, nullptr))
    ROOST_THROW("cannot encode training curves for ", path, ": ", png.message);
  bytes.resize(size);
  return bytes;
}

}  // namespace

namespace {
struct Figure {
  std::vector<double> epochs;
  std::vector<Panel> panels;  // loss, accuracy (%), throughput
};

Figure make_figure(const std::vector<EpochPoint>& sorted) {
  Figure f;
  Series train_loss{"train", {}, kTrainColor, Marker::kDisc}, val_loss{"val", {}, kValColor, Marker::kSquare};
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
  f.panels = {{"loss", {train_loss, val_loss}},
              {"accuracy (%)", {train_acc, val_acc}},
              {"throughput (images/s)", {throughput}}};
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
    out.push_back({panel.title, y.lo, y.hi, y.labels});
  }
  return out;
}

void write_training_curves_png(const std::string& path, const std::vector<EpochPoint>& points,
                               const std::string& title) {
  const std::vector<EpochPoint> sorted = by_epoch(points);
  const Figure figure = make_figure(sorted);
  const Axis x_axis = sorted.empty() ? epoch_axis(0, 1, 6)
                                     : epoch_axis(sorted.front().epoch, sorted.back().epoch, 6);
  Canvas canvas(kCurvesWidth, kCurvesHeight, kBackground);
  draw_header(canvas, title);
  for (int i = 0; i < 3; ++i) draw_panel(canvas, i * kPanelWidth, figure.panels[i], figure.epochs, x_axis);

  const std::string bytes = encode_png(canvas, path);
  try {
    write_file_atomic(path, bytes);
  } catch (const Error& e) {
    ROOST_THROW("cannot write training curves to ", path, ": ", e.message());
  }
}

}  // namespace roost::train
