// random_image.h — test images of uniformly random pixels: noise is the hardest input for
// rounding. Plain C++, shared by the unit and GPU tests.
#pragma once

#include <cstdint>
#include <random>

#include "roost/data/image.h"

namespace roost::testing {

inline data::Image random_image(int height, int width, std::mt19937_64& rng) {
  data::Image image;
  image.height = height;
  image.width = width;
  image.pixels.resize(static_cast<size_t>(height) * width * 3);
  for (auto& p : image.pixels) p = static_cast<uint8_t>(rng() >> 56);
  return image;
}

}  // namespace roost::testing
