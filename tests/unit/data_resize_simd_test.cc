// data_resize_simd_test.cc — apply_plan_u8 (SIMD passes where the CPU has them) gives the
// same bytes as the scalar reference loops on random images and plans: odd widths, one-pixel
// sides, heavy downscales (many taps), upscales, windows and flips. Pillow parity itself is
// tested in data_resize_test.cc; this covers many more shapes cheaply, without Python.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "python_peer.h"
#include "roost/data/resize.h"
#include "roost/data/transforms.h"

namespace roost::data {
namespace {

using roost::testing::random_image;

int uniform(std::mt19937_64& rng, int lo, int hi) {
  return lo + static_cast<int>(rng() % static_cast<uint64_t>(hi - lo + 1));
}

TEST(DataResizeSimd, EqualsTheScalarReference) {
  std::mt19937_64 rng(77);
  int cases = 0;
  for (int i = 0; i < 400; ++i) {
    const bool big = i % 10 == 0;
    const int h = big ? uniform(rng, 300, 900) : uniform(rng, 1, 70);
    const int w = big ? uniform(rng, 300, 900) : uniform(rng, 1, 70);
    const Image img = random_image(h, w, rng);
    ResizePlan plan;
    if (i % 3 == 0) {
      plan = train_plan(h, w, uniform(rng, 1, 240), RandomResizedCropOptions{}, rng);
    } else {
      plan.box.height = uniform(rng, 1, h);
      plan.box.width = uniform(rng, 1, w);
      plan.box.top = uniform(rng, 0, h - plan.box.height);
      plan.box.left = uniform(rng, 0, w - plan.box.width);
      plan.resized_h = uniform(rng, 1, big ? 40 : 130);  // big: downscales with many taps
      plan.resized_w = uniform(rng, 1, big ? 40 : 130);
      plan.out_h = uniform(rng, 1, plan.resized_h);
      plan.out_w = uniform(rng, 1, plan.resized_w);
      plan.offset_y = uniform(rng, 0, plan.resized_h - plan.out_h);
      plan.offset_x = uniform(rng, 0, plan.resized_w - plan.out_w);
      plan.flip = rng() % 2 == 0;
    }
    const Image fast = apply_plan_u8(img, plan);
    const Image reference = detail::apply_plan_u8_reference(img, plan);
    ASSERT_EQ(fast.height, reference.height);
    ASSERT_EQ(fast.width, reference.width);
    ASSERT_EQ(fast.pixels, reference.pixels)
        << "image " << h << "x" << w << ", box " << plan.box.top << "," << plan.box.left << " " << plan.box.height
        << "x" << plan.box.width << " -> " << plan.resized_h << "x" << plan.resized_w << " window " << plan.offset_y
        << "," << plan.offset_x << " " << plan.out_h << "x" << plan.out_w << (plan.flip ? " flipped" : "");
    ++cases;
  }
  EXPECT_EQ(cases, 400);
}

TEST(DataResizeSimd, SaturatedImagesStayInRange) {
  // All-255 and alternating 0/255 images stress the rounding and clipping of the sums.
  for (uint8_t pattern : {uint8_t{255}, uint8_t{0x0F}}) {
    Image img{33, 47, std::vector<uint8_t>(33 * 47 * 3)};
    for (size_t k = 0; k < img.pixels.size(); ++k) img.pixels[k] = (k / 3) % 2 ? pattern : 255;
    for (int size : {5, 16, 33, 60}) {
      ResizePlan plan;
      plan.box = CropBox{0, 0, 33, 47};
      plan.resized_h = plan.out_h = size;
      plan.resized_w = plan.out_w = size + 3;
      EXPECT_EQ(apply_plan_u8(img, plan).pixels, detail::apply_plan_u8_reference(img, plan).pixels) << size;
    }
  }
}

}  // namespace
}  // namespace roost::data
