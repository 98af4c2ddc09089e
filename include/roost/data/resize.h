// roost/data/resize.h — the CPU reference of roost's preprocessing: PIL's antialiased
// bilinear resize (fixed point, 22 fractional bits, horizontal pass first into uint8,
// then vertical) applied through a ResizePlan, then flip, ToTensor and Normalize.
// The CUDA kernel (roost/kernels/preprocess.h) must match apply_plan_u8 within 1/255.
#pragma once

#include <cstddef>  // image.h uses size_t
#include <cstdint>
#include <vector>

#include "roost/data/image.h"
#include "roost/data/transforms.h"

namespace roost::data {

// Fixed-point fraction bits of Pillow's 8-bit resampling (32 - 8 bits of value - 2 of headroom).
constexpr int kResamplePrecisionBits = 22;

// One axis of Pillow's antialiased bilinear resampling (precompute_coeffs followed by the
// 8-bit normalisation), resampling a source axis of in_size pixels starting at 0 to out_size.
// Output index o reads source indices start[o] .. start[o] + count[o] - 1 with weights
// coef[o * taps + k]; entries past count are 0. The CPU reference and the CUDA kernel share
// these tables, so both round the same weights the same way.
struct ResampleAxis {
  int taps = 0;                // coefficients stored per output index (Pillow's ksize)
  std::vector<int32_t> start;  // out_size entries
  std::vector<int32_t> count;  // out_size entries
  std::vector<int32_t> coef;   // out_size * taps entries, kResamplePrecisionBits fractional bits
};

ResampleAxis resample_axis(int in_size, int out_size);

// Raises a UsageError unless `plan` fits an image of height × width: a non-empty box inside
// the image, a positive resized size and a window inside the resized image.
void check_plan(int height, int width, const ResizePlan& plan);

// ToTensor then Normalize for one channel value, in float32 as torchvision computes it.
inline float normalize_u8(uint8_t value, float mean, float std) {
  return (static_cast<float>(value) / 255.0f - mean) / std;
}

// Resized, cropped and flipped uint8 HWC output of size plan.out_h × plan.out_w.
Image apply_plan_u8(const Image& source, const ResizePlan& plan);

namespace detail {
// The portable scalar loops of apply_plan_u8. apply_plan_u8 may use SIMD passes instead
// (SSE2 on x86-64), which must give the same bytes; tests compare the two.
Image apply_plan_u8_reference(const Image& source, const ResizePlan& plan);
}  // namespace detail

// Writes the normalized float CHW tensor (3 × out_h × out_w) for `source` into `out`.
void apply_plan_normalized(const Image& source, const ResizePlan& plan, const Normalization& norm, float* out);

}  // namespace roost::data
