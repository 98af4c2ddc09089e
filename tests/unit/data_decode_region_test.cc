// data_decode_region_test.cc — decode_for_plan: the region it decodes holds, inside the
// plan's box, exactly the bytes of a full decode, for random boxes on JPEGs of every common
// layout (4:2:0 from roost's encoder; 4:4:4, 4:2:2, grey, progressive and CMYK from PIL when
// the Python peer is available), so crops and resizes are unchanged; it calls make_plan once;
// and it refuses the files decode_image refuses.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "python_peer.h"
#include "roost/data/decode.h"
#include "roost/data/resize.h"
#include "roost/data/transforms.h"

namespace roost::data {
namespace {

using roost::testing::read_bytes;
using roost::testing::TempDir;
using roost::testing::write_bytes;

// Smooth colour plus noise and a sharp-edged block: chroma that varies at every scale.
Image test_image(int height, int width, uint32_t seed) {
  std::mt19937 rng(seed);
  Image image{height, width, std::vector<uint8_t>(static_cast<size_t>(height) * width * 3)};
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      for (int c = 0; c < 3; ++c) {
        int v = (x * (c + 2) * 255 / width + y * (3 - c) * 255 / height) / 3 + static_cast<int>(rng() % 40);
        if (x > width / 3 && x < width / 2 && y > height / 4) v = 255 * (c == 1);
        image.row(y)[x * 3 + c] = static_cast<uint8_t>(std::min(255, v));
      }
  return image;
}

int uniform(std::mt19937& rng, int lo, int hi) { return lo + static_cast<int>(rng() % (hi - lo + 1)); }

// Checks decode_for_plan against decode_image on `boxes` random boxes (and the whole image).
void expect_region_matches(const std::vector<uint8_t>& bytes, const std::string& name, int boxes) {
  const Image full = decode_image(bytes.data(), bytes.size());
  std::mt19937 rng(static_cast<uint32_t>(bytes.size()));
  for (int i = 0; i <= boxes; ++i) {
    ResizePlan wanted;
    if (i == boxes) {
      wanted.box = CropBox{0, 0, full.height, full.width};
    } else {
      wanted.box.height = uniform(rng, 1, full.height);
      wanted.box.width = uniform(rng, 1, full.width);
      wanted.box.top = uniform(rng, 0, full.height - wanted.box.height);
      wanted.box.left = uniform(rng, 0, full.width - wanted.box.width);
    }
    wanted.resized_h = wanted.out_h = 13;
    wanted.resized_w = wanted.out_w = 11;
    wanted.flip = i % 2 == 1;
    int calls = 0;
    ResizePlan plan;
    const Image region = decode_for_plan(
        bytes.data(), bytes.size(),
        [&](int h, int w) {
          ++calls;
          EXPECT_EQ(h, full.height);
          EXPECT_EQ(w, full.width);
          return wanted;
        },
        &plan);
    ASSERT_EQ(calls, 1);
    const CropBox& got = plan.box;
    const std::string where = name + " box " + std::to_string(wanted.box.top) + "," + std::to_string(wanted.box.left) +
                              " " + std::to_string(wanted.box.height) + "x" + std::to_string(wanted.box.width);
    ASSERT_EQ(got.height, wanted.box.height) << where;
    ASSERT_EQ(got.width, wanted.box.width) << where;
    ASSERT_TRUE(got.top >= 0 && got.left >= 0 && got.top + got.height <= region.height &&
                got.left + got.width <= region.width)
        << where;
    for (int y = 0; y < got.height; ++y)
      ASSERT_EQ(std::memcmp(region.row(got.top + y) + got.left * 3, full.row(wanted.box.top + y) + wanted.box.left * 3,
                            static_cast<size_t>(got.width) * 3),
                0)
          << where << ": row " << y << " differs from the full decode";
    EXPECT_EQ(apply_plan_u8(region, plan).pixels, apply_plan_u8(full, wanted).pixels) << where;
  }
}

TEST(DataDecodeRegion, RoostJpegsMatchFullDecode) {
  for (auto [h, w] : {std::pair{375, 500}, {97, 131}, {17, 9}, {1, 40}, {40, 1}, {256, 256}}) {
    const Image image = test_image(h, w, static_cast<uint32_t>(h * 1000 + w));
    expect_region_matches(encode_jpeg(image, 90), std::to_string(h) + "x" + std::to_string(w), 60);
  }
}

TEST(DataDecodeRegion, PilJpegLayoutsMatchFullDecode) {
  const std::string missing = roost::testing::python_peer_missing();
  if (!missing.empty()) GTEST_SKIP() << "Python peer unavailable: " << missing;
  TempDir dir;
  write_bytes(dir.file("source.png"), encode_png(test_image(203, 317, 5)));
  roost::testing::write_pil_jpeg_variants(dir.file("source.png"), dir);
  for (const char* name : {"s444.jpg", "s422.jpg", "s420.jpg", "progressive.jpg", "grey.jpg", "cmyk.jpg", "odd.jpg"})
    expect_region_matches(read_bytes(dir.file(name)), name, 60);
}

TEST(DataDecodeRegion, PngIsDecodedWhole) {
  const Image image = test_image(30, 41, 9);
  const std::vector<uint8_t> bytes = encode_png(image);
  ResizePlan wanted;
  wanted.box = CropBox{3, 4, 10, 12};
  wanted.resized_h = wanted.resized_w = wanted.out_h = wanted.out_w = 5;
  ResizePlan plan;
  const Image got = decode_for_plan(
      bytes.data(), bytes.size(), [&](int, int) { return wanted; }, &plan);
  EXPECT_EQ(got.pixels, image.pixels);
  EXPECT_EQ(plan.box.top, 3);
  EXPECT_EQ(plan.box.left, 4);
}

TEST(DataDecodeRegion, RefusesWhatDecodeImageRefuses) {
  const std::vector<uint8_t> good = encode_jpeg(test_image(64, 64, 3), 90);
  auto plan_fn = [](int h, int w) {
    ResizePlan p;
    p.box = CropBox{0, 0, std::max(1, h / 4), std::max(1, w / 4)};  // a box near the top
    p.resized_h = p.resized_w = p.out_h = p.out_w = 8;
    return p;
  };
  ResizePlan plan;
  // Cut after the first rows: the box's rows are all there, but the file is truncated.
  const std::vector<std::vector<uint8_t>> bad = {
      std::vector<uint8_t>(good.begin(), good.begin() + static_cast<long>(good.size() * 3 / 4)),
      std::vector<uint8_t>(good.begin(), good.end() - 2),  // no end-of-image marker
      std::vector<uint8_t>(good.begin(), good.begin() + 20),
      {0xFF, 0xD8, 0xFF},
      {}};
  for (const auto& bytes : bad) {
    EXPECT_THROW(decode_image(bytes.data(), bytes.size()), DecodeError) << bytes.size();
    EXPECT_THROW(decode_for_plan(bytes.data(), bytes.size(), plan_fn, &plan), DecodeError) << bytes.size();
  }
}

}  // namespace
}  // namespace roost::data
