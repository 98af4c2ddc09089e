// bench_images.h — photo-like test images for the data benchmarks: smooth colour fields,
// sensor-like noise and a few solid shapes, so JPEG sizes and decode costs resemble real
// photos (the reference job's fowl images are Open Images JPEGs of about 500×375).
// Header-only: each benchmark is one executable.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>

#include "roost/data/decode.h"
#include "roost/data/image.h"

namespace roost::bench {

inline data::Image photo_like_image(int height, int width, std::mt19937& rng) {
  std::uniform_real_distribution<float> u(0.f, 1.f);
  data::Image img;
  img.height = height;
  img.width = width;
  img.pixels.resize(static_cast<size_t>(width) * height * 3);
  float fx[3], fy[3], phase[3];
  for (int c = 0; c < 3; ++c) {
    fx[c] = 0.5f + 4.f * u(rng);
    fy[c] = 0.5f + 4.f * u(rng);
    phase[c] = 6.28f * u(rng);
  }
  std::normal_distribution<float> noise(0.f, 5.f);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      for (int c = 0; c < 3; ++c) {
        const float v =
            128.f + 90.f * std::sin(fx[c] * x / width * 3.f + fy[c] * y / height * 2.f + phase[c]) + noise(rng);
        img.row(y)[x * 3 + c] = static_cast<uint8_t>(std::clamp(v, 0.f, 255.f));
      }
  // Solid ellipses and rectangles: sharp edges, as objects in a photo have.
  for (int s = 0; s < 6; ++s) {
    const int cx = static_cast<int>(u(rng) * width), cy = static_cast<int>(u(rng) * height);
    const int rx = 10 + static_cast<int>(u(rng) * 70), ry = 10 + static_cast<int>(u(rng) * 70);
    const uint8_t colour[3] = {static_cast<uint8_t>(rng() & 255), static_cast<uint8_t>(rng() & 255),
                               static_cast<uint8_t>(rng() & 255)};
    const bool ellipse = s % 2 == 0;
    for (int y = std::max(0, cy - ry); y < std::min(height, cy + ry); ++y)
      for (int x = std::max(0, cx - rx); x < std::min(width, cx + rx); ++x) {
        const float dx = static_cast<float>(x - cx) / rx, dy = static_cast<float>(y - cy) / ry;
        if (ellipse && dx * dx + dy * dy > 1.f) continue;
        for (int c = 0; c < 3; ++c) img.row(y)[x * 3 + c] = colour[c];
      }
  }
  return img;
}

// Writes `count` JPEGs (quality 90, about 500×375) as root/class{0,1}/NNNN.jpg.
inline void write_photo_like_jpegs(const std::string& root, int count, unsigned seed = 7) {
  std::mt19937 rng(seed);
  for (int i = 0; i < count; ++i) {
    const std::string dir = root + "/class" + std::to_string(i % 2);
    std::filesystem::create_directories(dir);
    const int width = 480 + static_cast<int>(rng() % 41), height = 360 + static_cast<int>(rng() % 31);
    const auto bytes = data::encode_jpeg(photo_like_image(height, width, rng), 90);
    char name[32];
    std::snprintf(name, sizeof name, "/%04d.jpg", i);
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen((dir + name).c_str(), "wb"), &std::fclose);
    if (!f || std::fwrite(bytes.data(), 1, bytes.size(), f.get()) != bytes.size())
      throw std::runtime_error("cannot write " + dir + name);
  }
}

}  // namespace roost::bench
