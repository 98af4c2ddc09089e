// data_dct_scale_test.cc — `--jpeg-dct-scale on` (DecodeOptions::jpeg_dct_scale): the scale
// chosen for a plan and the plan rebased onto it; a crop that shrinks by 2x or more decodes at
// a reduced scale, its region equals the whole reduced decode inside the box, and the final
// pixels stay close to the full-size path; crops that shrink less and PNGs keep today's bytes;
// the loader (folders and encoded packs) uses the reduced decode only when asked.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "../../benchmarks/bench_images.h"  // the benchmarks' photo-like images
#include "python_peer.h"
#include "roost/data/dataset.h"
#include "roost/data/dct_scale.h"
#include "roost/data/decode.h"
#include "roost/data/loader.h"
#include "roost/data/resize.h"
#include "roost/data/transforms.h"
#ifdef ROOST_WITH_HDF5
#include "roost/data/h5_pack.h"
#endif

namespace roost::data {
namespace {

using roost::testing::TempDir;
using roost::testing::write_bytes;

ResizePlan plan_of(CropBox box, int resized_h, int resized_w) {
  ResizePlan plan;
  plan.box = box;
  plan.resized_h = plan.out_h = resized_h;
  plan.resized_w = plan.out_w = resized_w;
  return plan;
}

std::vector<uint8_t> photo_jpeg(int height, int width, unsigned seed) {
  std::mt19937 rng(seed);
  return encode_jpeg(bench::photo_like_image(height, width, rng), 90);
}

Image decode_with(const std::vector<uint8_t>& bytes, const ResizePlan& wanted, bool dct_scale, ResizePlan* plan) {
  DecodeOptions options;
  options.jpeg_dct_scale = dct_scale;
  return decode_for_plan(
      bytes.data(), bytes.size(), [&](int, int) { return wanted; }, plan, options);
}

TEST(DctScale, ChoosesTheLargestScaleThatDoesNotUpscale) {
  EXPECT_EQ(choose_dct_scale(plan_of({0, 0, 448, 448}, 224, 224), 500, 500), 2);
  EXPECT_EQ(choose_dct_scale(plan_of({0, 0, 446, 900}, 224, 224), 500, 1000), 1);  // 223 rows at 1/2
  EXPECT_EQ(choose_dct_scale(plan_of({0, 0, 900, 1000}, 224, 224), 1000, 1000), 4);
  EXPECT_EQ(choose_dct_scale(plan_of({0, 0, 1800, 1800}, 224, 224), 1800, 1800), 8);
  // Val at 64: Resize(73) of a 375×500 image is 73×97; 1/4 gives 94×125, 1/8 only 47×63.
  EXPECT_EQ(choose_dct_scale(val_plan(375, 500, 73, 64), 375, 500), 4);
  // Val at 224 and any train crop at 224 of a 375×500 image shrink by less than 2x.
  EXPECT_EQ(choose_dct_scale(val_plan(375, 500, 256, 224), 375, 500), 1);
  EXPECT_EQ(choose_dct_scale(plan_of({0, 0, 375, 500}, 224, 224), 375, 500), 1);
}

TEST(DctScale, BoxEdgesAreRoundedToTheNearestPixelAndClamped) {
  ResizePlan plan = plan_of({5, 6, 100, 203}, 20, 30);
  plan.offset_y = 1;
  plan.flip = true;
  const ResizePlan scaled = dct_scale_plan(plan, 375, 500, 4);
  EXPECT_EQ(scaled.box.top, 1);      // 5/4 = 1.25
  EXPECT_EQ(scaled.box.left, 2);     // 6/4 = 1.5, halves up
  EXPECT_EQ(scaled.box.height, 25);  // bottom 105/4 = 26.25 -> 26
  EXPECT_EQ(scaled.box.width, 50);   // right 209/4 = 52.25 -> 52
  EXPECT_EQ(scaled.resized_h, 20);
  EXPECT_EQ(scaled.resized_w, 30);
  EXPECT_EQ(scaled.offset_y, 1);
  EXPECT_TRUE(scaled.flip);
  // At the far edges of a 375×500 image at 1/8 (47×63 pixels).
  const CropBox edge = dct_scale_plan(plan_of({300, 400, 75, 100}, 8, 8), 375, 500, 8).box;
  EXPECT_EQ(edge.top, 38);
  EXPECT_EQ(edge.height, 47 - 38);
  EXPECT_EQ(edge.left, 50);
  EXPECT_EQ(edge.width, 63 - 50);
  EXPECT_EQ(dct_scaled_size(375, 8), 47);
}

// Inside the box, a region decoded at 1/scale holds the bytes of the whole image decoded at
// 1/scale: the skipped rows and cropped columns change nothing the resize reads.
void expect_reduced_region_matches(const std::vector<uint8_t>& bytes, const std::string& name, int boxes) {
  const Image full = decode_image(bytes.data(), bytes.size());
  const int height = full.height, width = full.width;
  std::mt19937 rng(static_cast<uint32_t>(bytes.size()));
  for (int scale : {2, 4, 8}) {
    const int scaled_w = dct_scaled_size(width, scale);
    // The whole image's box at 1/scale (its far edges rounded, so possibly a pixel short).
    const CropBox all = dct_scale_plan(plan_of({0, 0, height, width}, 1, 1), height, width, scale).box;
    ResizePlan whole_plan;
    const Image whole = decode_with(bytes, plan_of({0, 0, height, width}, all.height, all.width), true, &whole_plan);
    ASSERT_EQ(whole.height, all.height) << name;  // decoding stops after the box's last row
    ASSERT_EQ(whole.width, scaled_w) << name;
    for (int i = 0; i < boxes; ++i) {
      CropBox box;
      box.height = 4 * scale + static_cast<int>(rng() % (height - 4 * scale));
      box.width = 4 * scale + static_cast<int>(rng() % (width - 4 * scale));
      box.top = static_cast<int>(rng() % (height - box.height + 1));
      box.left = static_cast<int>(rng() % (width - box.width + 1));
      const CropBox expected = dct_scale_plan(plan_of(box, 1, 1), height, width, scale).box;
      const ResizePlan wanted = plan_of(box, expected.height, expected.width);  // exactly fits 1/scale
      ASSERT_EQ(choose_dct_scale(wanted, height, width), scale);
      ResizePlan plan;
      const Image region = decode_with(bytes, wanted, true, &plan);
      const std::string where = name + " at 1/" + std::to_string(scale) + ", box " + std::to_string(i);
      ASSERT_EQ(plan.box.height, expected.height) << where;
      ASSERT_EQ(plan.box.width, expected.width) << where;
      EXPECT_EQ(region.height, plan.box.top + plan.box.height) << where;  // decoding stopped at the box's bottom
      EXPECT_LE(region.width, scaled_w) << where;
      for (int y = 0; y < plan.box.height; ++y) {
        const uint8_t* got = region.row(plan.box.top + y) + 3 * plan.box.left;
        const uint8_t* want = whole.row(expected.top + y) + 3 * expected.left;
        ASSERT_EQ(std::memcmp(got, want, 3 * static_cast<size_t>(plan.box.width)), 0) << where << " row " << y;
      }
    }
  }
}

TEST(DctScale, ReducedRegionMatchesTheWholeReducedDecode) {
  if (!jpeg_dct_scale_supported()) GTEST_SKIP() << "built without libjpeg: no reduced-scale decoding";
  expect_reduced_region_matches(photo_jpeg(375, 500, 11), "roost 4:2:0", 12);
}

// The layouts PIL writes: 4:4:4, 4:2:2, progressive, grey scale at reduced scales as 4:2:0 does;
// CMYK is decoded whole at full size (decode_for_plan's unsupported layouts are not scaled).
TEST(DctScale, PilJpegLayouts) {
  if (!jpeg_dct_scale_supported()) GTEST_SKIP() << "built without libjpeg: no reduced-scale decoding";
  const std::string missing = roost::testing::python_peer_missing();
  if (!missing.empty()) GTEST_SKIP() << "Python peer unavailable: " << missing;
  TempDir dir;
  std::mt19937 photo_rng(8);
  write_bytes(dir.file("source.png"), encode_png(bench::photo_like_image(203, 317, photo_rng)));
  roost::testing::write_pil_jpeg_variants(dir.file("source.png"), dir);
  for (const char* name : {"s444.jpg", "s422.jpg", "progressive.jpg", "grey.jpg"})
    expect_reduced_region_matches(roost::testing::read_bytes(dir.file(name)), name, 8);
  const std::vector<uint8_t> cmyk = roost::testing::read_bytes(dir.file("cmyk.jpg"));
  ResizePlan plan;
  const Image image = decode_with(cmyk, plan_of({0, 0, 203, 317}, 25, 39), true, &plan);
  EXPECT_EQ(image.height, 203);
  EXPECT_EQ(image.pixels, decode_image(cmyk.data(), cmyk.size()).pixels);
}

// The output a crop that shrinks by 2x or more gets from the reduced decode is close to the
// full-size decode's (PIL's pixels): the DCT's N×N averaging instead of the antialiased
// resize's first 2x..8x.
TEST(DctScale, ShrinkingCropIsCloseToTheFullSizePath) {
  if (!jpeg_dct_scale_supported()) GTEST_SKIP() << "built without libjpeg: no reduced-scale decoding";
  double total = 0;
  int64_t values = 0, scaled = 0;
  for (unsigned seed = 0; seed < 6; ++seed) {
    const std::vector<uint8_t> bytes = photo_jpeg(375, 500, 100 + seed);
    std::mt19937_64 rng(seed);
    const ResizePlan wanted = seed < 4 ? train_plan(375, 500, 64, {0.25, 1.0}, rng) : val_plan(375, 500, 73, 64);
    ResizePlan exact_plan, dct_plan;
    const Image exact = apply_plan_u8(decode_with(bytes, wanted, false, &exact_plan), exact_plan);
    const Image image = decode_with(bytes, wanted, true, &dct_plan);
    const Image reduced = apply_plan_u8(image, dct_plan);
    scaled += dct_plan.box.height < wanted.box.height;
    ASSERT_EQ(reduced.pixels.size(), exact.pixels.size());
    for (size_t i = 0; i < exact.pixels.size(); ++i) total += std::abs(int(reduced.pixels[i]) - int(exact.pixels[i]));
    values += static_cast<int64_t>(exact.pixels.size());
  }
  EXPECT_EQ(scaled, 6);  // every box here is at least 128 pixels, 2x the 64 of the output
  const double mean = total / static_cast<double>(values);
  std::printf("mean absolute difference from the full-size path: %.3f levels of 255\n", mean);
  EXPECT_LT(mean, 3.0);
  EXPECT_GT(mean, 0.0);  // the pixels do change: that is why the option is off by default
}

// A crop that shrinks by less than 2x, and a PNG, decode as with the option off.
TEST(DctScale, WhatDoesNotShrinkTwofoldKeepsItsBytes) {
  const std::vector<uint8_t> jpeg = photo_jpeg(375, 500, 3);
  std::mt19937 photo_rng(3);
  const std::vector<uint8_t> png = encode_png(bench::photo_like_image(120, 160, photo_rng));
  std::mt19937_64 rng(9);
  for (int i = 0; i < 8; ++i) {
    const ResizePlan wanted = i < 6 ? train_plan(375, 500, 224, {}, rng) : val_plan(375, 500, 256, 224);
    ASSERT_EQ(choose_dct_scale(wanted, 375, 500), 1);
    ResizePlan off, on;
    const Image a = decode_with(jpeg, wanted, false, &off), b = decode_with(jpeg, wanted, true, &on);
    EXPECT_EQ(a.pixels, b.pixels) << i;
    EXPECT_EQ(apply_plan_u8(a, off).pixels, apply_plan_u8(b, on).pixels) << i;
  }
  const ResizePlan quarter = plan_of({0, 0, 120, 160}, 30, 40);  // 4x: a JPEG would use 1/4
  ResizePlan off, on;
  const Image a = decode_with(png, quarter, false, &off), b = decode_with(png, quarter, true, &on);
  EXPECT_EQ(b.height, 120);
  EXPECT_EQ(a.pixels, b.pixels);
  EXPECT_EQ(on.box.height, 120);
}

// An ImageFolder of 375×500 JPEGs and one PNG, read through the loader (decode_only, as the
// GPU path) for val at 64 (Resize(73)): the JPEGs come back at 1/4 (94×125) with the option,
// whole without it; the PNG whole either way. An encoded pack of the same files gives the
// same images.
class DctScaleLoader : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* split : {"train", "val"}) {
      const std::string dir = dir_.file(std::string("data/") + split + "/a");
      std::filesystem::create_directories(dir);
      for (unsigned i = 0; i < 3; ++i) write_bytes(dir + "/" + std::to_string(i) + ".jpg", photo_jpeg(375, 500, i));
      std::mt19937 rng(4);
      write_bytes(dir + "/3.png", encode_png(bench::photo_like_image(375, 500, rng)));
    }
  }

  static std::vector<Batch> read(std::shared_ptr<const Dataset> ds, bool dct_scale) {
    LoaderOptions o;
    o.batch_size = 2;
    o.workers = 2;
    o.image_size = 64;
    o.resize_short = 73;
    o.augment = Augment::kVal;
    o.decode_only = true;
    o.decode.jpeg_dct_scale = dct_scale;
    std::vector<int64_t> indices;
    for (int64_t i = 0; i < ds->size(); ++i) indices.push_back(i);
    Loader loader(std::move(ds), indices, o);
    std::vector<Batch> out;
    Batch batch;
    while (loader.next(batch)) out.push_back(std::move(batch));
    return out;
  }

  TempDir dir_;
};

TEST_F(DctScaleLoader, ValJpegsDecodeAtAQuarter) {
  if (!jpeg_dct_scale_supported()) GTEST_SKIP() << "built without libjpeg: no reduced-scale decoding";
  const auto folder = open_image_folder(dir_.file("data/val"));
  for (bool on : {false, true}) {
    const std::vector<Batch> batches = read(folder, on);
    ASSERT_EQ(batches.size(), 2u);
    for (const Batch& b : batches)
      for (int k = 0; k < b.size; ++k) {
        const bool jpeg = folder->describe(b.indices[k]).find(".jpg") != std::string::npos;
        const bool reduced = on && jpeg;
        EXPECT_EQ(b.images[k].height, reduced ? 94 : 375) << folder->describe(b.indices[k]);
        EXPECT_EQ(b.images[k].width, reduced ? 125 : 500);
        EXPECT_EQ(b.plans[k].box.height, b.images[k].height);  // Resize() reads the whole image
      }
  }
}

#ifdef ROOST_WITH_HDF5
TEST_F(DctScaleLoader, EncodedPackDecodesAsTheFolder) {
  if (!jpeg_dct_scale_supported()) GTEST_SKIP() << "built without libjpeg: no reduced-scale decoding";
  PackOptions p;
  p.data_dir = dir_.file("data");
  p.out = dir_.file("data.h5");
  p.format = PackFormat::kEncoded;
  write_pack(p);
  const std::vector<Batch> packed = read(open_pack(p.out, "val"), true);
  const std::vector<Batch> folder = read(open_image_folder(dir_.file("data/val")), true);
  ASSERT_EQ(packed.size(), folder.size());
  int reduced = 0;
  for (size_t b = 0; b < packed.size(); ++b)
    for (int k = 0; k < packed[b].size; ++k) {
      EXPECT_EQ(packed[b].images[k].pixels, folder[b].images[k].pixels);
      reduced += packed[b].images[k].height == 94;
    }
  EXPECT_EQ(reduced, 3);
}
#endif

}  // namespace
}  // namespace roost::data
