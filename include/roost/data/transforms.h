// roost/data/transforms.h — the geometry of torchvision's reference transforms, and the
// one resize operation both the CPU reference and the CUDA kernel implement.
//
// Every transform of the reference job is a "resize plan": take a box of the source image,
// resize it (PIL's antialiased bilinear, horizontal pass first) to resized_h × resized_w,
// and keep the out_h × out_w window starting at (offset_y, offset_x) of that resized image,
// optionally mirrored. Train: box = RandomResizedCrop's box, resized = out = size, offset 0.
// Val: box = whole image, resized = Resize(short side) size, offset = CenterCrop's corner.
#pragma once

#include <array>
#include <cstdint>
#include <random>

namespace roost::data {

struct CropBox {
  int top = 0, left = 0, height = 0, width = 0;
};

struct ResizePlan {
  CropBox box;                       // region of the source image that is resized
  int resized_h = 0, resized_w = 0;  // size the box is resized to
  int offset_y = 0, offset_x = 0;    // window of the resized image that is kept
  int out_h = 0, out_w = 0;
  bool flip = false;  // mirror the output horizontally (after resize)
};

struct RandomResizedCropOptions {
  double scale_lo = 0.08, scale_hi = 1.0;
  double ratio_lo = 3.0 / 4.0, ratio_hi = 4.0 / 3.0;
};

// torchvision's RandomResizedCrop.get_params: 10 attempts, then the centre fallback.
CropBox sample_resized_crop(int height, int width, const RandomResizedCropOptions& options, std::mt19937_64& rng);

// Train plan: RandomResizedCrop(size) then RandomHorizontalFlip(p=0.5), drawn from rng.
ResizePlan train_plan(int height, int width, int size, const RandomResizedCropOptions& options, std::mt19937_64& rng);

// Val plan: Resize(resize_short) on the short side (long = int(resize_short*long/short)),
// then CenterCrop(crop) with Python rounding of the corner.
ResizePlan val_plan(int height, int width, int resize_short, int crop);

// ImageNet statistics used by Normalize in the reference job.
struct Normalization {
  std::array<float, 3> mean{0.485f, 0.456f, 0.406f};
  std::array<float, 3> std{0.229f, 0.224f, 0.225f};
};

}  // namespace roost::data
