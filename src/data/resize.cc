// roost/data/resize.cc — the CPU reference of roost's preprocessing: Pillow's antialiased
// bilinear resampling (ImagingResample with the BILINEAR filter, 8 bits per channel),
// reproduced operation for operation so that the result equals PIL's byte for byte.
//
// Pillow resizes in two separable passes: a horizontal pass over the source rows into a
// uint8 image, then a vertical pass over that image. Both passes use integer weights with
// 22 fractional bits. torchvision crops first (PIL's Image.crop) and then resizes the crop,
// so the resampling filter clamps at the crop's edges: every index here is relative to the
// plan's box. Only the source rows and intermediate columns that the kept window reads are
// computed; each output value depends on its own taps alone, so the result is unchanged.
#include "roost/data/resize.h"

#include <algorithm>
#include <cmath>

#include "roost/core/error.h"

namespace roost::data {

namespace {

// Pillow's bilinear filter: a triangle of support 1.
double triangle(double x) {
  if (x < 0.0) x = -x;
  return x < 1.0 ? 1.0 - x : 0.0;
}

uint8_t clip8(int32_t acc) {
  // Pillow's clip8: the accumulator carries 22 fraction bits; negative sums clamp to 0.
  if (acc <= 0) return 0;
  const int32_t value = acc >> kResamplePrecisionBits;
  return value > 255 ? 255 : static_cast<uint8_t>(value);
}

constexpr int32_t kRoundingHalf = 1 << (kResamplePrecisionBits - 1);

}  // namespace

ResampleAxis resample_axis(int in_size, int out_size) {
  ROOST_CHECK(in_size > 0 && out_size > 0, "resample sizes must be positive, got ", in_size,
              " -> ", out_size);
  // Pillow takes the box as floats and subtracts them as floats; for integer sizes below
  // 2^24 that is exact, so a double quotient of the integers gives the same scale.
  const double scale = static_cast<double>(static_cast<float>(in_size)) / out_size;
  const double filterscale = scale < 1.0 ? 1.0 : scale;
  const double support = 1.0 * filterscale;  // BILINEAR's support is 1
  ResampleAxis axis;
  axis.taps = static_cast<int>(std::ceil(support)) * 2 + 1;
  axis.start.resize(out_size);
  axis.count.resize(out_size);
  axis.coef.assign(static_cast<size_t>(out_size) * axis.taps, 0);

  std::vector<double> weights(axis.taps);
  for (int xx = 0; xx < out_size; ++xx) {
    const double center = 0.0 + (xx + 0.5) * scale;
    const double ss = 1.0 / filterscale;
    // Pillow truncates towards zero after adding 0.5 ("round the value"), then clamps.
    int xmin = static_cast<int>(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = static_cast<int>(center + support + 0.5);
    if (xmax > in_size) xmax = in_size;
    xmax -= xmin;
    double ww = 0.0;
    for (int x = 0; x < xmax; ++x) {
      const double w = triangle((x + xmin - center + 0.5) * ss);
      weights[x] = w;
      ww += w;
    }
    int32_t* k = axis.coef.data() + static_cast<size_t>(xx) * axis.taps;
    for (int x = 0; x < xmax; ++x) {
      const double w = ww != 0.0 ? weights[x] / ww : weights[x];
      // normalize_coeffs_8bpc: round half away from zero into 22 fraction bits.
      k[x] = w < 0 ? static_cast<int32_t>(-0.5 + w * (1 << kResamplePrecisionBits))
                   : static_cast<int32_t>(0.5 + w * (1 << kResamplePrecisionBits));
    }
    axis.start[xx] = xmin;
    axis.count[xx] = xmax;
  }
  return axis;
}

void check_plan(int height, int width, const ResizePlan& plan) {
  const CropBox& b = plan.box;
  ROOST_USAGE_CHECK(height > 0 && width > 0, "cannot resize an empty image (", height, "x",
                    width, ")");
  ROOST_USAGE_CHECK(b.height > 0 && b.width > 0 && b.top >= 0 && b.left >= 0 &&
                        b.top + b.height <= height && b.left + b.width <= width,
                    "crop box (top ", b.top, ", left ", b.left, ", ", b.height, "x", b.width,
                    ") is not inside the ", height, "x", width, " image");
  ROOST_USAGE_CHECK(plan.resized_h > 0 && plan.resized_w > 0, "resize target ", plan.resized_h,
                    "x", plan.resized_w, " must be positive");
  ROOST_USAGE_CHECK(plan.out_h > 0 && plan.out_w > 0 && plan.offset_y >= 0 &&
                        plan.offset_x >= 0 && plan.offset_y + plan.out_h <= plan.resized_h &&
                        plan.offset_x + plan.out_w <= plan.resized_w,
                    "output window (", plan.offset_y, ", ", plan.offset_x, ", ", plan.out_h, "x",
                    plan.out_w, ") is not inside the resized ", plan.resized_h, "x",
                    plan.resized_w, " image");
}

Image apply_plan_u8(const Image& source, const ResizePlan& plan) {
  check_plan(source.height, source.width, plan);
  ROOST_CHECK(source.pixels.size() == static_cast<size_t>(source.height) * source.width * 3,
              "image buffer holds ", source.pixels.size(), " bytes, not ", source.height, "x",
              source.width, "x3");
  const ResampleAxis horiz = resample_axis(plan.box.width, plan.resized_w);
  const ResampleAxis vert = resample_axis(plan.box.height, plan.resized_h);

  // Box rows read by the window's first and last output rows (the bounds are monotone).
  const int last_y = plan.offset_y + plan.out_h - 1;
  const int row_first = vert.start[plan.offset_y];
  const int row_end = vert.start[last_y] + vert.count[last_y];
  const int rows = row_end - row_first;
  const int out_w = plan.out_w;

  // Horizontal pass: box rows row_first..row_end-1 → window columns, rounded to uint8.
  std::vector<uint8_t> inter(static_cast<size_t>(rows) * out_w * 3);
  for (int r = 0; r < rows; ++r) {
    const uint8_t* src = source.row(plan.box.top + row_first + r) + plan.box.left * 3;
    uint8_t* dst = inter.data() + static_cast<size_t>(r) * out_w * 3;
    for (int x = 0; x < out_w; ++x) {
      const int xx = plan.offset_x + x;
      const int32_t* k = horiz.coef.data() + static_cast<size_t>(xx) * horiz.taps;
      const uint8_t* p = src + horiz.start[xx] * 3;
      int32_t s0 = kRoundingHalf, s1 = kRoundingHalf, s2 = kRoundingHalf;
      for (int t = 0; t < horiz.count[xx]; ++t, p += 3) {
        s0 += p[0] * k[t];
        s1 += p[1] * k[t];
        s2 += p[2] * k[t];
      }
      dst[x * 3 + 0] = clip8(s0);
      dst[x * 3 + 1] = clip8(s1);
      dst[x * 3 + 2] = clip8(s2);
    }
  }

  // Vertical pass over the intermediate rows, then the mirror (flip comes after resize).
  Image out;
  out.height = plan.out_h;
  out.width = out_w;
  out.pixels.resize(static_cast<size_t>(plan.out_h) * out_w * 3);
  std::vector<int32_t> acc(static_cast<size_t>(out_w) * 3);
  for (int y = 0; y < plan.out_h; ++y) {
    const int yy = plan.offset_y + y;
    const int32_t* k = vert.coef.data() + static_cast<size_t>(yy) * vert.taps;
    std::fill(acc.begin(), acc.end(), kRoundingHalf);
    for (int t = 0; t < vert.count[yy]; ++t) {
      // Row-major accumulation keeps the inner loop contiguous; integer sums are exact,
      // so the order does not change the result.
      const uint8_t* row = inter.data() + static_cast<size_t>(vert.start[yy] - row_first + t) *
                                              out_w * 3;
      for (int i = 0; i < out_w * 3; ++i) acc[i] += row[i] * k[t];
    }
    uint8_t* dst = out.row(y);
    for (int x = 0; x < out_w; ++x) {
      const int dx = plan.flip ? out_w - 1 - x : x;
      for (int c = 0; c < 3; ++c) dst[dx * 3 + c] = clip8(acc[x * 3 + c]);
    }
  }
  return out;
}

void apply_plan_normalized(const Image& source, const ResizePlan& plan, const Normalization& norm,
                           float* out) {
  const Image resized = apply_plan_u8(source, plan);
  const size_t plane = static_cast<size_t>(plan.out_h) * plan.out_w;
  // One table per channel: 256 values, so the per-pixel work is a lookup.
  float table[3][256];
  for (int c = 0; c < 3; ++c)
    for (int v = 0; v < 256; ++v)
      table[c][v] = normalize_u8(static_cast<uint8_t>(v), norm.mean[c], norm.std[c]);
  const uint8_t* p = resized.pixels.data();
  for (size_t i = 0; i < plane; ++i, p += 3) {
    out[i] = table[0][p[0]];
    out[plane + i] = table[1][p[1]];
    out[2 * plane + i] = table[2][p[2]];
  }
}

}  // namespace roost::data
