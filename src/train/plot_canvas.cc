// src/train/plot_canvas.cc — rasterising for the training-curve plots. Shapes are drawn by
// computing each nearby pixel's distance to the shape, which gives anti-aliased edges with
// a solid core: pixels well inside a line or marker keep its exact colour.
#include "plot_canvas.h"

#include <algorithm>
#include <cmath>

#include "plot_font.h"

namespace roost::train {

namespace {

// Fraction of a pixel covered by a shape whose edge is `distance_inside` pixels away from
// the pixel's centre (negative: the centre is outside).
double edge_coverage(double distance_inside) { return std::clamp(distance_inside + 0.5, 0.0, 1.0); }

double segment_distance(double px, double py, PlotPoint a, PlotPoint b) {
  const double dx = b.x - a.x, dy = b.y - a.y;
  const double length2 = dx * dx + dy * dy;
  double t = length2 > 0 ? ((px - a.x) * dx + (py - a.y) * dy) / length2 : 0.0;
  t = std::clamp(t, 0.0, 1.0);
  const double ex = a.x + t * dx - px, ey = a.y + t * dy - py;
  return std::sqrt(ex * ex + ey * ey);
}

}  // namespace

Canvas::Canvas(int width, int height, PlotColor background)
    : width_(width), height_(height), pixels_(static_cast<size_t>(width) * height * 3) {
  fill_rect(0, 0, width, height, background);
}

void Canvas::blend(int x, int y, PlotColor color, double coverage) {
  if (x < 0 || y < 0 || x >= width_ || y >= height_ || coverage <= 0) return;
  uint8_t* p = pixels_.data() + (static_cast<size_t>(y) * width_ + x) * 3;
  if (coverage >= 1) {
    p[0] = color.r, p[1] = color.g, p[2] = color.b;
    return;
  }
  const uint8_t c[3] = {color.r, color.g, color.b};
  for (int i = 0; i < 3; ++i)
    p[i] = static_cast<uint8_t>(std::lround(p[i] + (c[i] - p[i]) * coverage));
}

void Canvas::fill_rect(int x0, int y0, int x1, int y1, PlotColor color) {
  x0 = std::max(x0, 0), y0 = std::max(y0, 0);
  x1 = std::min(x1, width_), y1 = std::min(y1, height_);
  for (int y = y0; y < y1; ++y)
    for (int x = x0; x < x1; ++x) blend(x, y, color, 1.0);
}

void Canvas::stroke_rect(int x0, int y0, int x1, int y1, PlotColor color) {
  fill_rect(x0, y0, x1, y0 + 1, color);
  fill_rect(x0, y1 - 1, x1, y1, color);
  fill_rect(x0, y0, x0 + 1, y1, color);
  fill_rect(x1 - 1, y0, x1, y1, color);
}

void Canvas::polyline(const std::vector<PlotPoint>& points, double width, PlotColor color) {
  if (points.size() < 2) return;
  const double half = width / 2;
  // Per-pixel coverage over the line's bounding box, composited once at the end.
  double min_x = points[0].x, max_x = min_x, min_y = points[0].y, max_y = min_y;
  for (const auto& p : points) {
    min_x = std::min(min_x, p.x), max_x = std::max(max_x, p.x);
    min_y = std::min(min_y, p.y), max_y = std::max(max_y, p.y);
  }
  const int bx0 = std::max(0, static_cast<int>(std::floor(min_x - half - 1)));
  const int by0 = std::max(0, static_cast<int>(std::floor(min_y - half - 1)));
  const int bx1 = std::min(width_, static_cast<int>(std::ceil(max_x + half + 2)));
  const int by1 = std::min(height_, static_cast<int>(std::ceil(max_y + half + 2)));
  if (bx0 >= bx1 || by0 >= by1) return;
  const int bw = bx1 - bx0;
  std::vector<double> coverage(static_cast<size_t>(bw) * (by1 - by0), 0.0);
  for (size_t i = 0; i + 1 < points.size(); ++i) {
    const PlotPoint a = points[i], b = points[i + 1];
    const int x0 = std::max(bx0, static_cast<int>(std::floor(std::min(a.x, b.x) - half - 1)));
    const int x1 = std::min(bx1, static_cast<int>(std::ceil(std::max(a.x, b.x) + half + 2)));
    const int y0 = std::max(by0, static_cast<int>(std::floor(std::min(a.y, b.y) - half - 1)));
    const int y1 = std::min(by1, static_cast<int>(std::ceil(std::max(a.y, b.y) + half + 2)));
    for (int y = y0; y < y1; ++y)
      for (int x = x0; x < x1; ++x) {
        const double c = edge_coverage(half - segment_distance(x + 0.5, y + 0.5, a, b));
        double& slot = coverage[static_cast<size_t>(y - by0) * bw + (x - bx0)];
        slot = std::max(slot, c);
      }
  }
  for (int y = by0; y < by1; ++y)
    for (int x = bx0; x < bx1; ++x)
      blend(x, y, color, coverage[static_cast<size_t>(y - by0) * bw + (x - bx0)]);
}

void Canvas::disc(double cx, double cy, double radius, PlotColor color) {
  const int x0 = static_cast<int>(std::floor(cx - radius - 1)), x1 = static_cast<int>(std::ceil(cx + radius + 1));
  const int y0 = static_cast<int>(std::floor(cy - radius - 1)), y1 = static_cast<int>(std::ceil(cy + radius + 1));
  for (int y = y0; y <= y1; ++y)
    for (int x = x0; x <= x1; ++x)
      blend(x, y, color, edge_coverage(radius - std::hypot(x + 0.5 - cx, y + 0.5 - cy)));
}

void Canvas::square(double cx, double cy, double half_side, PlotColor color) {
  const int x0 = static_cast<int>(std::floor(cx - half_side - 1)), x1 = static_cast<int>(std::ceil(cx + half_side + 1));
  const int y0 = static_cast<int>(std::floor(cy - half_side - 1)), y1 = static_cast<int>(std::ceil(cy + half_side + 1));
  for (int y = y0; y <= y1; ++y)
    for (int x = x0; x <= x1; ++x) {
      const double d = std::max(std::abs(x + 0.5 - cx), std::abs(y + 0.5 - cy));
      blend(x, y, color, edge_coverage(half_side - d));
    }
}

void Canvas::text(int x, int y, const std::string& s, int scale, PlotColor color) {
  for (size_t i = 0; i < s.size(); ++i) {
    const int gx = x + static_cast<int>(i) * font::kAdvance * scale;
    for (int row = 0; row < font::kGlyphHeight; ++row)
      for (int col = 0; col < font::kGlyphWidth; ++col)
        if (font::glyph_pixel(s[i], col, row))
          fill_rect(gx + col * scale, y + row * scale, gx + (col + 1) * scale, y + (row + 1) * scale, color);
  }
}

int Canvas::text_width(const std::string& s, int scale) {
  if (s.empty()) return 0;
  // The last glyph has no spacing column after it.
  return (static_cast<int>(s.size()) * font::kAdvance - (font::kAdvance - font::kGlyphWidth)) * scale;
}

int Canvas::text_height(int scale) { return (font::kGlyphHeight - 1) * scale; }

}  // namespace roost::train
