// roost/data/transforms.cc — the geometry of torchvision's reference transforms:
// RandomResizedCrop.get_params (torchvision 0.14), RandomHorizontalFlip, and
// Resize(short side) + CenterCrop, each turned into a ResizePlan.
//
// Random numbers come from std::mt19937_64 through conversions written here rather than
// std::uniform_*_distribution, whose algorithms differ between standard libraries: a seed
// must give the same crops on every machine of a job.
#include "roost/data/transforms.h"

#include <cmath>
#include <cstdint>

#include "roost/core/error.h"

namespace roost::data {

namespace {

// Uniform double in [0, 1) from the top 53 bits of one draw.
double uniform01(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * (1.0 / 9007199254740992.0); }

double uniform(std::mt19937_64& rng, double lo, double hi) { return lo + (hi - lo) * uniform01(rng); }

// Uniform integer in [lo, hi] (inclusive, like torch.randint(lo, hi + 1)). Rejection keeps
// it unbiased: draws in the incomplete last block of size n are thrown away.
int uniform_int(std::mt19937_64& rng, int lo, int hi) {
  const uint64_t n = static_cast<uint64_t>(static_cast<int64_t>(hi) - lo) + 1;
  const uint64_t limit = UINT64_MAX - UINT64_MAX % n;  // multiple of n
  uint64_t draw = rng();
  while (draw >= limit) draw = rng();
  return lo + static_cast<int>(draw % n);
}

// Python 3's round(): half to even.
int round_half_even(double x) {
  const double f = std::floor(x);
  const double frac = x - f;
  double r = f;
  if (frac > 0.5 || (frac == 0.5 && std::fmod(f, 2.0) != 0.0)) r = f + 1.0;
  return static_cast<int>(r);
}

}  // namespace

CropBox sample_resized_crop(int height, int width, const RandomResizedCropOptions& options, std::mt19937_64& rng) {
  ROOST_USAGE_CHECK(height > 0 && width > 0, "cannot crop an empty image (", height, "x", width, ")");
  ROOST_USAGE_CHECK(options.scale_lo > 0 && options.scale_lo <= options.scale_hi && options.ratio_lo > 0 &&
                        options.ratio_lo <= options.ratio_hi,
                    "RandomResizedCrop needs 0 < scale_lo <= scale_hi and 0 < ratio_lo <= "
                    "ratio_hi, got scale (",
                    options.scale_lo, ", ", options.scale_hi, ") ratio (", options.ratio_lo, ", ", options.ratio_hi,
                    ")");
  const double area = static_cast<double>(height) * width;
  const double log_lo = std::log(options.ratio_lo);
  const double log_hi = std::log(options.ratio_hi);
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double target_area = area * uniform(rng, options.scale_lo, options.scale_hi);
    const double aspect = std::exp(uniform(rng, log_lo, log_hi));
    const int w = round_half_even(std::sqrt(target_area * aspect));
    const int h = round_half_even(std::sqrt(target_area / aspect));
    if (0 < w && w <= width && 0 < h && h <= height) {
      // torchvision draws the row first, then the column.
      const int top = uniform_int(rng, 0, height - h);
      const int left = uniform_int(rng, 0, width - w);
      return CropBox{top, left, h, w};
    }
  }
  // Fallback: the largest centred box whose aspect ratio is inside [ratio_lo, ratio_hi].
  const double in_ratio = static_cast<double>(width) / static_cast<double>(height);
  int w = width, h = height;
  if (in_ratio < options.ratio_lo) {
    h = round_half_even(w / options.ratio_lo);
  } else if (in_ratio > options.ratio_hi) {
    w = round_half_even(h * options.ratio_hi);
  }
  // Python's // floors; both differences are >= 0 here, so integer division agrees.
  return CropBox{(height - h) / 2, (width - w) / 2, h, w};
}

ResizePlan train_plan(int height, int width, int size, const RandomResizedCropOptions& options, std::mt19937_64& rng) {
  ROOST_USAGE_CHECK(size > 0, "crop size must be positive, got ", size);
  ResizePlan plan;
  plan.box = sample_resized_crop(height, width, options, rng);
  plan.resized_h = plan.resized_w = size;
  plan.out_h = plan.out_w = size;
  // RandomHorizontalFlip(p=0.5): torch.rand(1) < 0.5, drawn after the crop.
  plan.flip = uniform01(rng) < 0.5;
  return plan;
}

ResizePlan val_plan(int height, int width, int resize_short, int crop) {
  ROOST_USAGE_CHECK(height > 0 && width > 0, "cannot resize an empty image (", height, "x", width, ")");
  ROOST_USAGE_CHECK(crop > 0 && resize_short >= crop, "validation resize (", resize_short,
                    ") must be at least the centre crop (", crop, ") and the crop positive");
  const int short_side = width <= height ? width : height;
  const int long_side = width <= height ? height : width;
  // int(size * long / short): Python's true division of exact integers, then truncation.
  const int new_long =
      static_cast<int>(static_cast<double>(static_cast<int64_t>(resize_short) * long_side) / short_side);
  ResizePlan plan;
  plan.box = CropBox{0, 0, height, width};
  plan.resized_w = width <= height ? resize_short : new_long;
  plan.resized_h = width <= height ? new_long : resize_short;
  // CenterCrop: int(round((H - crop) / 2.0)) with Python's half-to-even rounding.
  plan.offset_y = round_half_even((plan.resized_h - crop) / 2.0);
  plan.offset_x = round_half_even((plan.resized_w - crop) / 2.0);
  plan.out_h = plan.out_w = crop;
  return plan;
}

}  // namespace roost::data
