// roost/data/image.h — a decoded image: RGB, uint8, height × width × 3 (HWC), row-major.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace roost::data {

struct Image {
  int height = 0;
  int width = 0;
  std::vector<uint8_t> pixels;  // height * width * 3 bytes, R G B interleaved

  uint8_t* row(int y) { return pixels.data() + static_cast<size_t>(y) * width * 3; }
  const uint8_t* row(int y) const { return pixels.data() + static_cast<size_t>(y) * width * 3; }
  bool empty() const { return height == 0 || width == 0; }
};

}  // namespace roost::data
