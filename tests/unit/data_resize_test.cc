// data_resize_test.cc — roost's CPU resize (data::apply_plan_u8) against Pillow and
// torchvision themselves: random images of odd sizes, random RandomResizedCrop boxes with
// flips, and Resize + CenterCrop validation plans must give the same bytes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <sstream>

#include "python_peer.h"
#include "roost/core/error.h"
#include "roost/data/resize.h"
#include "roost/data/transforms.h"

namespace roost::data {
namespace {

using roost::testing::random_image;
using roost::testing::TempDir;

struct ParityCase {
  int image = 0;  // index into the image list
  ResizePlan plan;
  std::string fixture_args;  // the mode part of the manifest line
  std::string name;
};

std::string describe(const Image& img, const ResizePlan& p) {
  std::ostringstream os;
  os << img.height << "x" << img.width << " box(" << p.box.top << "," << p.box.left << "," << p.box.height << "x"
     << p.box.width << ") -> " << p.resized_h << "x" << p.resized_w << " window(" << p.offset_y << "," << p.offset_x
     << "," << p.out_h << "x" << p.out_w << ")" << (p.flip ? " flipped" : "");
  return os.str();
}

ParityCase train_case(int image_index, const Image& img, const ResizePlan& plan) {
  std::ostringstream args;
  args << "train " << plan.box.top << " " << plan.box.left << " " << plan.box.height << " " << plan.box.width << " "
       << plan.resized_h << " " << plan.resized_w << " " << (plan.flip ? 1 : 0);
  return ParityCase{image_index, plan, args.str(), describe(img, plan)};
}

TEST(DataResize, MatchesPillowExactly) {
  const std::string missing = roost::testing::python_peer_missing();
  if (!missing.empty()) GTEST_SKIP() << "Python peer unavailable: " << missing;

  std::mt19937_64 rng(20240611);
  const std::vector<std::pair<int, int>> sizes = {{1, 37},    {1, 500},     {500, 1},   {37, 1},    {3, 500},
                                                  {333, 517}, {2000, 1500}, {17, 23},   {375, 500}, {500, 375},
                                                  {28, 28},   {224, 224},   {256, 300}, {255, 257}};
  std::vector<Image> images;
  for (auto [h, w] : sizes) images.push_back(random_image(h, w, rng));

  std::vector<ParityCase> cases;
  const RandomResizedCropOptions crop_options;
  for (size_t i = 0; i < images.size(); ++i) {
    const Image& img = images[i];
    for (int k = 0; k < 4; ++k)
      cases.push_back(train_case(i, img, train_plan(img.height, img.width, 224, crop_options, rng)));
    // The whole image to an odd, non-square size (heavy downscale for the big one).
    ResizePlan whole;
    whole.box = CropBox{0, 0, img.height, img.width};
    whole.resized_h = whole.out_h = 61;
    whole.resized_w = whole.out_w = 37;
    cases.push_back(train_case(i, img, whole));
    // A random box to a small odd size, flipped.
    ResizePlan small = train_plan(img.height, img.width, 224, crop_options, rng);
    small.resized_h = small.out_h = 19;
    small.resized_w = small.out_w = 45;
    small.flip = true;
    cases.push_back(train_case(i, img, small));
  }
  // Validation plans; 1x500 and 3x500 are left out because their Resize(256) is enormous.
  for (size_t i = 0; i < images.size(); ++i) {
    const Image& img = images[i];
    if (img.width >= 100 * img.height || img.height >= 100 * img.width) continue;
    const bool tiny = img.height == 28;
    const int resize_short = tiny ? 36 : 256, crop = tiny ? 32 : 224;
    const ResizePlan plan = val_plan(img.height, img.width, resize_short, crop);
    cases.push_back(ParityCase{static_cast<int>(i), plan,
                               "val " + std::to_string(resize_short) + " " + std::to_string(crop),
                               describe(img, plan)});
  }

  TempDir dir;
  std::ostringstream manifest;
  for (size_t i = 0; i < images.size(); ++i)
    roost::testing::write_bytes(dir.file("in" + std::to_string(i) + ".rgb"), images[i].pixels);
  for (size_t c = 0; c < cases.size(); ++c) {
    const Image& img = images[cases[c].image];
    manifest << dir.file("in" + std::to_string(cases[c].image) + ".rgb") << " "
             << dir.file("out" + std::to_string(c) + ".rgb") << " " << img.height << " " << img.width << " "
             << cases[c].fixture_args << "\n";
  }
  const std::string manifest_text = manifest.str();
  roost::testing::write_bytes(dir.file("manifest.txt"),
                              std::vector<uint8_t>(manifest_text.begin(), manifest_text.end()));
  roost::testing::run_fixture("resize " + dir.file("manifest.txt"), dir);

  int exact = 0;
  for (size_t c = 0; c < cases.size(); ++c) {
    const ParityCase& pc = cases[c];
    const Image ours = apply_plan_u8(images[pc.image], pc.plan);
    const std::vector<uint8_t> theirs = roost::testing::read_bytes(dir.file("out" + std::to_string(c) + ".rgb"));
    ASSERT_EQ(theirs.size(), ours.pixels.size()) << pc.name;
    int max_diff = 0;
    size_t differing = 0;
    for (size_t k = 0; k < theirs.size(); ++k) {
      const int d = std::abs(int(theirs[k]) - int(ours.pixels[k]));
      max_diff = std::max(max_diff, d);
      differing += d != 0;
    }
    EXPECT_EQ(max_diff, 0) << pc.name << ": " << differing << " of " << theirs.size() << " bytes differ from Pillow";
    exact += max_diff == 0;
  }
  EXPECT_EQ(exact, static_cast<int>(cases.size()));
}

TEST(DataResize, NormalizedIsToTensorThenNormalize) {
  std::mt19937_64 rng(7);
  const Image img = random_image(97, 131, rng);
  const ResizePlan plan = train_plan(img.height, img.width, 64, RandomResizedCropOptions{}, rng);
  const Normalization norm;
  const Image u8 = apply_plan_u8(img, plan);
  std::vector<float> out(3 * 64 * 64, std::nanf(""));
  apply_plan_normalized(img, plan, norm, out.data());
  for (int c = 0; c < 3; ++c)
    for (int i = 0; i < 64 * 64; ++i) {
      const float expected = (u8.pixels[i * 3 + c] / 255.0f - norm.mean[c]) / norm.std[c];
      ASSERT_EQ(out[c * 64 * 64 + i], expected) << "channel " << c << " pixel " << i;
    }
}

TEST(DataResize, FlipMirrorsColumns) {
  std::mt19937_64 rng(11);
  const Image img = random_image(40, 50, rng);
  ResizePlan plan = val_plan(40, 50, 32, 30);
  const Image plain = apply_plan_u8(img, plan);
  plan.flip = true;
  const Image mirrored = apply_plan_u8(img, plan);
  for (int y = 0; y < plan.out_h; ++y)
    for (int x = 0; x < plan.out_w; ++x)
      for (int c = 0; c < 3; ++c) ASSERT_EQ(plain.row(y)[x * 3 + c], mirrored.row(y)[(plan.out_w - 1 - x) * 3 + c]);
}

TEST(DataResize, AxisWeightsSumToOne) {
  for (auto [in, out] :
       std::vector<std::pair<int, int>>{{1, 224}, {500, 224}, {2000, 224}, {224, 224}, {17, 224}, {100000, 3}}) {
    const ResampleAxis axis = resample_axis(in, out);
    for (int o = 0; o < out; ++o) {
      int64_t sum = 0;
      for (int k = 0; k < axis.count[o]; ++k) sum += axis.coef[size_t(o) * axis.taps + k];
      EXPECT_NEAR(double(sum), double(1 << kResamplePrecisionBits), axis.taps) << in << "->" << out;
      EXPECT_LE(axis.count[o], axis.taps);
      EXPECT_GE(axis.start[o], 0);
      EXPECT_LE(axis.start[o] + axis.count[o], in);
    }
  }
  // An axis that keeps its size copies: weight 1 on the pixel itself.
  const ResampleAxis same = resample_axis(5, 5);
  for (int o = 0; o < 5; ++o) {
    EXPECT_EQ(same.start[o], o);
    EXPECT_EQ(same.coef[size_t(o) * same.taps], 1 << kResamplePrecisionBits);
  }
}

TEST(DataResize, RejectsPlansOutsideTheImage) {
  std::mt19937_64 rng(3);
  const Image img = random_image(10, 10, rng);
  ResizePlan plan = val_plan(10, 10, 8, 8);
  plan.box.width = 11;
  EXPECT_THROW(apply_plan_u8(img, plan), roost::UsageError);
  plan = val_plan(10, 10, 8, 8);
  plan.offset_x = 1;
  EXPECT_THROW(apply_plan_u8(img, plan), roost::UsageError);
  EXPECT_THROW(apply_plan_u8(Image{}, val_plan(10, 10, 8, 8)), roost::UsageError);
}

}  // namespace
}  // namespace roost::data
