// src/train/plot_chart.cc — the general chart figure (panels of lines or points under a title
// and a legend), drawn with the same pieces, fonts and axes as the training curves.
#include <cairo.h>

#include <algorithm>
#include <cmath>
#include <memory>

#include "plot_axis.h"
#include "plot_draw.h"
#include "roost/core/error.h"
#include "roost/train/plot.h"

namespace roost::train {

namespace {
constexpr int kPerRow = 3;
constexpr double kMargin = 18, kLegendLine = 20;
constexpr int kFrameLeft = 78, kFrameRight = 16, kFrameTop = 34, kFrameBottom = 50, kInset = 10;

struct Rect {
  double x0, y0, x1, y1;
};

// Rows the legend needs at `width`, laid out as flowing text: swatch, label, gap.
int legend_rows(cairo_t* cr, const std::vector<LegendEntry>& legend, double width) {
  int rows = legend.empty() ? 0 : 1;
  double x = kMargin;
  for (const auto& e : legend) {
    const double w = 22 + text_width(cr, e.label) + 16;
    if (x + w > width - kMargin && x > kMargin) ++rows, x = kMargin;
    x += w;
  }
  return rows;
}

void draw_legend(cairo_t* cr, const std::vector<LegendEntry>& legend, double width, double top) {
  double x = kMargin, baseline = top + 14;
  for (const auto& e : legend) {
    const double w = 22 + text_width(cr, e.label) + 16;
    if (x + w > width - kMargin && x > kMargin) x = kMargin, baseline += kLegendLine;
    draw_marker(cr, x + 7, baseline - digit_half_height(cr), Marker::kDisc, e.color, false);
    draw_text(cr, x + 18, baseline, printable_utf8(e.label), Align::kLeft, kInk);
    x += w;
  }
}

Axis axis_of(const Chart& chart, bool x) {
  std::vector<double> all;
  for (const auto& s : chart.series) all.insert(all.end(), (x ? s.x : s.y).begin(), (x ? s.x : s.y).end());
  return value_axis(all, 5);
}

void draw_frame(cairo_t* cr, const Chart& chart, const Rect& frame, const Rect& area, const Axis& xa, const Axis& ya) {
  set_font(cr, 12);
  const double half = digit_half_height(cr);
  for (size_t i = 0; i < ya.ticks.size(); ++i) {
    const double y = std::round(area.y1 - (ya.ticks[i] - ya.lo) / (ya.hi - ya.lo) * (area.y1 - area.y0));
    crisp_line(cr, frame.x0, y, frame.x1, y, kGrid);
    draw_text(cr, frame.x0 - 8, y + half, ya.labels[i], Align::kRight, kInk);
  }
  for (size_t i = 0; i < xa.ticks.size(); ++i) {
    const double x = std::round(area.x0 + (xa.ticks[i] - xa.lo) / (xa.hi - xa.lo) * (area.x1 - area.x0));
    crisp_line(cr, x, frame.y0, x, frame.y1, kGrid);
    draw_text(cr, x + 0.5, frame.y1 + 20, xa.labels[i], Align::kCenter, kInk);
  }
  set_color(cr, kFrame);
  cairo_set_line_width(cr, 1.0);
  cairo_rectangle(cr, frame.x0 + 0.5, frame.y0 + 0.5, frame.x1 - frame.x0, frame.y1 - frame.y0);
  cairo_stroke(cr);
  set_font(cr, 14, true);
  draw_text(cr, (frame.x0 + frame.x1) / 2, frame.y0 - 10, printable_utf8(chart.title), Align::kCenter, kInk);
  set_font(cr, 13);
  draw_text(cr, (frame.x0 + frame.x1) / 2, frame.y1 + 40, printable_utf8(chart.x_title), Align::kCenter, kMuted);
  cairo_save(cr);
  cairo_translate(cr, frame.x0 - 58, (frame.y0 + frame.y1) / 2);
  cairo_rotate(cr, -M_PI / 2);
  draw_text(cr, 0, 0, printable_utf8(chart.y_title), Align::kCenter, kMuted);
  cairo_restore(cr);
}

void draw_chart_series(cairo_t* cr, const ChartSeries& s, const Rect& area, const Axis& xa, const Axis& ya) {
  auto px = [&](double v) { return area.x0 + (v - xa.lo) / (xa.hi - xa.lo) * (area.x1 - area.x0); };
  auto py = [&](double v) { return area.y1 - (v - ya.lo) / (ya.hi - ya.lo) * (area.y1 - area.y0); };
  const size_t n = std::min(s.x.size(), s.y.size());
  auto ok = [&](size_t i) { return i < n && std::isfinite(s.x[i]) && std::isfinite(s.y[i]); };
  if (s.lines) {
    set_color(cr, s.color);
    cairo_set_line_width(cr, kLineWidth);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    for (size_t i = 0; i < n; ++i)
      if (ok(i))
        (i == 0 || !ok(i - 1)) ? cairo_move_to(cr, px(s.x[i]), py(s.y[i])) : cairo_line_to(cr, px(s.x[i]), py(s.y[i]));
    cairo_stroke(cr);
  }
  for (size_t i = 0; i < n; ++i)
    if (ok(i)) draw_marker(cr, px(s.x[i]), py(s.y[i]), Marker::kDisc, s.color, !s.lines);
}

void draw_chart(cairo_t* cr, const Chart& chart, double left, double top) {
  const Rect frame{left + kFrameLeft, top + kFrameTop, left + kChartPanelWidth - kFrameRight,
                   top + kChartPanelHeight - kFrameBottom};
  const Rect area{frame.x0 + kInset, frame.y0 + kInset, frame.x1 - kInset, frame.y1 - kInset};
  const Axis xa = axis_of(chart, true), ya = axis_of(chart, false);
  draw_frame(cr, chart, frame, area, xa, ya);
  cairo_save(cr);
  cairo_rectangle(cr, frame.x0 + 1, frame.y0 + 1, frame.x1 - frame.x0 - 1, frame.y1 - frame.y0 - 1);
  cairo_clip(cr);
  for (const auto& s : chart.series) draw_chart_series(cr, s, area, xa, ya);
  cairo_restore(cr);
}
}  // namespace

PlotColor palette_color(size_t i) {
  static constexpr PlotColor kTab10[] = {{31, 119, 180},  {255, 127, 14}, {44, 160, 44},   {214, 39, 40},
                                         {148, 103, 189}, {140, 86, 75},  {227, 119, 194}, {127, 127, 127},
                                         {188, 189, 34},  {23, 190, 207}};
  return kTab10[i % 10];
}

void write_charts_png(const std::string& path, const std::vector<Chart>& charts, const std::string& title,
                      const std::vector<LegendEntry>& legend) {
  const int columns = std::clamp(static_cast<int>(charts.size()), 1, kPerRow);
  const int rows = std::max(1, (static_cast<int>(charts.size()) + kPerRow - 1) / kPerRow);
  const int width = columns * kChartPanelWidth;
  // The header's height depends on the legend's rows, measured on a scratch surface.
  std::unique_ptr<cairo_surface_t, SurfaceFree> scratch(cairo_image_surface_create(CAIRO_FORMAT_RGB24, 1, 1));
  std::unique_ptr<cairo_t, ContextFree> measure(cairo_create(scratch.get()));
  set_font(measure.get(), 13);
  const int header = 40 + static_cast<int>(legend_rows(measure.get(), legend, width) * kLegendLine);
  std::unique_ptr<cairo_surface_t, SurfaceFree> surface(
      cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, header + rows * kChartPanelHeight));
  std::unique_ptr<cairo_t, ContextFree> context(cairo_create(surface.get()));
  cairo_t* cr = context.get();
  set_color(cr, kBackground);
  cairo_paint(cr);
  set_font(cr, 16, true);
  draw_text(cr, kMargin, 26, printable_utf8(title), Align::kLeft, kInk);
  set_font(cr, 13);
  draw_legend(cr, legend, width, 34);
  for (size_t i = 0; i < charts.size(); ++i)
    draw_chart(cr, charts[i], (i % kPerRow) * double(kChartPanelWidth),
               header + (i / kPerRow) * double(kChartPanelHeight));
  if (cairo_status(cr) != CAIRO_STATUS_SUCCESS)
    ROOST_THROW("cannot draw ", path, ": ", cairo_status_to_string(cairo_status(cr)));
  save_png(surface.get(), path, "charts");
}

}  // namespace roost::train
