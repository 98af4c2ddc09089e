// roost/data/dct_scale.cc — the crop box of a resize plan at a reduced JPEG decoding scale.
#include "roost/data/dct_scale.h"

#include <algorithm>

namespace roost::data {

namespace {
// x / scale rounded to the nearest integer, halves up (x >= 0).
int div_round(int x, int scale) { return (x + scale / 2) / scale; }
}  // namespace

ResizePlan dct_scale_plan(const ResizePlan& plan, int height, int width, int scale) {
  if (scale <= 1) return plan;
  const int scaled_h = dct_scaled_size(height, scale), scaled_w = dct_scaled_size(width, scale);
  ResizePlan out = plan;
  const CropBox& b = plan.box;
  int top = std::min(div_round(b.top, scale), scaled_h - 1);
  int left = std::min(div_round(b.left, scale), scaled_w - 1);
  int bottom = std::min(div_round(b.top + b.height, scale), scaled_h);
  int right = std::min(div_round(b.left + b.width, scale), scaled_w);
  out.box.top = top;
  out.box.left = left;
  out.box.height = std::max(1, bottom - top);
  out.box.width = std::max(1, right - left);
  return out;
}

int choose_dct_scale(const ResizePlan& plan, int height, int width) {
  for (int scale : kDctScales) {
    const CropBox box = dct_scale_plan(plan, height, width, scale).box;
    if (box.height >= plan.resized_h && box.width >= plan.resized_w) return scale;
  }
  return 1;
}

}  // namespace roost::data
