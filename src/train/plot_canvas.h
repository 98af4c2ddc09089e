// src/train/plot_canvas.h — an RGB raster with the few drawing operations the training-curve
// plots need: rectangles, anti-aliased polylines and markers, and bitmap-font text.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "roost/train/plot.h"

namespace roost::train {

struct PlotPoint {
  double x, y;
};

class Canvas {
 public:
  Canvas(int width, int height, PlotColor background);

  int width() const { return width_; }
  int height() const { return height_; }
  const std::vector<uint8_t>& pixels() const { return pixels_; }  // RGB, row-major

  // Fills the pixels x0 <= x < x1, y0 <= y < y1 (clipped to the canvas).
  void fill_rect(int x0, int y0, int x1, int y1, PlotColor color);
  // A one-pixel outline of the same rectangle.
  void stroke_rect(int x0, int y0, int x1, int y1, PlotColor color);

  // Joined segments `width` pixels wide. Coverage is the maximum over the segments rather
  // than their sum, so joints are no darker than the rest of the line.
  void polyline(const std::vector<PlotPoint>& points, double width, PlotColor color);
  // Filled markers centred on (cx, cy), anti-aliased at the edge.
  void disc(double cx, double cy, double radius, PlotColor color);
  void square(double cx, double cy, double half_side, PlotColor color);

  // Text with its top-left corner at (x, y), each font pixel drawn as scale × scale.
  void text(int x, int y, const std::string& s, int scale, PlotColor color);
  static int text_width(const std::string& s, int scale);
  static int text_height(int scale);  // cap height: the rows above the baseline

 private:
  // Mixes `color` into pixel (x, y) with weight `coverage` in [0, 1].
  void blend(int x, int y, PlotColor color, double coverage);

  int width_, height_;
  std::vector<uint8_t> pixels_;
};

}  // namespace roost::train
