// preprocess_batch.h — the awkward batch both preprocessing-kernel tests run (the GPU test in
// tests/gpu and the kernel's phases on the host in tests/unit): random images of odd shapes
// (1×N, N×1, tiny, heavy downscale, a column too tall for shared memory), each with a random
// train crop and flip, a whole-image plan and a validation plan. Plain C++, no CUDA.
#pragma once

#include <algorithm>
#include <cstdint>
#include <random>
#include <utility>
#include <vector>

#include "random_image.h"
#include "roost/data/image.h"
#include "roost/data/resize.h"
#include "roost/data/transforms.h"

namespace roost::testing {

// plans[i] reads images[i]; every plan outputs out_size × out_size.
struct PreprocessBatch {
  std::vector<data::Image> images;
  std::vector<data::ResizePlan> plans;
  std::vector<const data::Image*> pointers() const {
    std::vector<const data::Image*> p;
    for (const data::Image& im : images) p.push_back(&im);
    return p;
  }
};

inline PreprocessBatch make_preprocess_batch(int out_size, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const std::vector<std::pair<int, int>> sizes = {{1, 37},    {1, 500}, {500, 1},   {3, 500},
                                                  {333, 517}, {17, 23}, {375, 500}, {2000, 1500},
                                                  {60000, 2}, {5, 5},   {224, 224}, {256, 300}};
  std::vector<data::Image> distinct;
  for (auto [h, w] : sizes) distinct.push_back(random_image(h, w, rng));
  PreprocessBatch b;
  for (int rep = 0; rep < 3; ++rep)
    for (size_t i = 0; i < sizes.size(); ++i) {
      const auto [h, w] = sizes[i];
      data::ResizePlan plan = data::train_plan(h, w, out_size, data::RandomResizedCropOptions{}, rng);
      if (rep == 1) {
        // The whole image: heavy downscale for 2000×1500, and for 60000×2 a vertical shrink
        // whose intermediate cannot fit in shared memory.
        plan.box = data::CropBox{0, 0, h, w};
      } else if (rep == 2 && std::max(h, w) < 50 * std::min(h, w)) {
        plan = data::val_plan(h, w, out_size + out_size / 7, out_size);
        plan.flip = (i % 2) == 1;
      }
      b.plans.push_back(plan);
      b.images.push_back(distinct[i]);
    }
  return b;
}

}  // namespace roost::testing
