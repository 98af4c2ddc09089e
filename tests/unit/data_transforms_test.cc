// data_transforms_test.cc — roost's transform geometry against torchvision: the
// RandomResizedCrop box distribution (area and aspect histograms, position), its
// deterministic fallback for extreme aspect ratios, Resize + CenterCrop numbers, flip rate.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <sstream>

#include "python_peer.h"
#include "roost/core/error.h"
#include "roost/data/transforms.h"

namespace roost::data {
namespace {

using roost::testing::TempDir;

std::vector<CropBox> parse_boxes(const std::string& text) {
  std::vector<CropBox> boxes;
  std::istringstream in(text);
  CropBox b;
  while (in >> b.top >> b.left >> b.height >> b.width) boxes.push_back(b);
  return boxes;
}

// Counts of `value(box)` in `bins` equal bins over [lo, hi]; values outside go to the ends.
template <typename F>
std::vector<int> histogram(const std::vector<CropBox>& boxes, int bins, double lo, double hi, F value) {
  std::vector<int> counts(bins, 0);
  for (const CropBox& b : boxes) {
    int k = static_cast<int>(std::floor((value(b) - lo) / (hi - lo) * bins));
    counts[std::clamp(k, 0, bins - 1)]++;
  }
  return counts;
}

// Two samples of the same distribution: each bin's counts differ by a few standard
// deviations of a difference of Poisson counts at most (5 sigma keeps false alarms rare).
void expect_same_histogram(const std::vector<int>& ours, const std::vector<int>& theirs, const char* what) {
  for (size_t k = 0; k < ours.size(); ++k) {
    const double tolerance = 5.0 * std::sqrt(double(ours[k] + theirs[k])) + 5.0;
    EXPECT_LE(std::abs(ours[k] - theirs[k]), tolerance)
        << what << " bin " << k << ": roost " << ours[k] << " torchvision " << theirs[k];
  }
}

TEST(DataTransforms, CropDistributionMatchesTorchvision) {
  const std::string missing = roost::testing::python_peer_missing();
  if (!missing.empty()) GTEST_SKIP() << "Python peer unavailable: " << missing;
  const int height = 375, width = 500, count = 10000;
  TempDir dir;
  const std::vector<CropBox> theirs = parse_boxes(roost::testing::run_fixture("crops 10000 1 375 500", dir));
  ASSERT_EQ(theirs.size(), size_t(count));

  std::mt19937_64 rng(99);
  std::vector<CropBox> ours;
  for (int i = 0; i < count; ++i) ours.push_back(sample_resized_crop(height, width, RandomResizedCropOptions{}, rng));

  for (const CropBox& b : ours) {
    ASSERT_GT(b.height, 0);
    ASSERT_GT(b.width, 0);
    ASSERT_GE(b.top, 0);
    ASSERT_GE(b.left, 0);
    ASSERT_LE(b.top + b.height, height);
    ASSERT_LE(b.left + b.width, width);
  }
  const double area = double(height) * width;
  auto area_fraction = [&](const CropBox& b) { return b.height * double(b.width) / area; };
  auto log_aspect = [](const CropBox& b) { return std::log(double(b.width) / b.height); };
  // Where the box sits inside its free range (0 = top/left edge, 1 = bottom/right edge).
  auto row_position = [&](const CropBox& b) { return height == b.height ? 0.5 : b.top / double(height - b.height); };
  auto column_position = [&](const CropBox& b) { return width == b.width ? 0.5 : b.left / double(width - b.width); };
  expect_same_histogram(histogram(ours, 10, 0.0, 1.0, area_fraction), histogram(theirs, 10, 0.0, 1.0, area_fraction),
                        "area fraction");
  expect_same_histogram(histogram(ours, 10, std::log(0.75), std::log(4.0 / 3.0), log_aspect),
                        histogram(theirs, 10, std::log(0.75), std::log(4.0 / 3.0), log_aspect), "log aspect ratio");
  expect_same_histogram(histogram(ours, 5, 0.0, 1.0, row_position), histogram(theirs, 5, 0.0, 1.0, row_position),
                        "row position");
  expect_same_histogram(histogram(ours, 5, 0.0, 1.0, column_position), histogram(theirs, 5, 0.0, 1.0, column_position),
                        "column position");
}

TEST(DataTransforms, FallbackBoxMatchesTorchvision) {
  const std::string missing = roost::testing::python_peer_missing();
  if (!missing.empty()) GTEST_SKIP() << "Python peer unavailable: " << missing;
  // Shapes where no attempt can fit, so get_params always takes its centred fallback.
  const std::vector<std::pair<int, int>> sizes = {{10, 1000}, {1000, 10}, {1, 500}, {500, 1},
                                                  {3, 500},   {500, 3},   {2, 7000}};
  std::string args = "crops 3 7";
  for (auto [h, w] : sizes) args += " " + std::to_string(h) + " " + std::to_string(w);
  TempDir dir;
  const std::vector<CropBox> theirs = parse_boxes(roost::testing::run_fixture(args, dir));
  ASSERT_EQ(theirs.size(), 3 * sizes.size());
  std::mt19937_64 rng(5);
  for (size_t k = 0; k < theirs.size(); ++k) {
    const auto [h, w] = sizes[k / 3];
    const CropBox ours = sample_resized_crop(h, w, RandomResizedCropOptions{}, rng);
    const CropBox& t = theirs[k];
    EXPECT_EQ(ours.top, t.top) << h << "x" << w;
    EXPECT_EQ(ours.left, t.left) << h << "x" << w;
    EXPECT_EQ(ours.height, t.height) << h << "x" << w;
    EXPECT_EQ(ours.width, t.width) << h << "x" << w;
  }
}

TEST(DataTransforms, ValPlanMatchesTorchvision) {
  const std::string missing = roost::testing::python_peer_missing();
  if (!missing.empty()) GTEST_SKIP() << "Python peer unavailable: " << missing;
  struct Size {
    int h, w, resize_short, crop;
  };
  const std::vector<Size> sizes = {{375, 500, 256, 224},  {500, 375, 256, 224},  {224, 224, 256, 224},
                                   {1, 37, 256, 224},     {333, 517, 256, 224},  {2000, 1500, 256, 224},
                                   {257, 1000, 256, 224}, {1001, 255, 256, 224}, {28, 28, 36, 32},
                                   {17, 23, 256, 255},    {480, 640, 256, 224},  {299, 300, 256, 224}};
  std::string args = "valsize";
  for (const Size& s : sizes)
    args += " " + std::to_string(s.h) + " " + std::to_string(s.w) + " " + std::to_string(s.resize_short) + " " +
            std::to_string(s.crop);
  TempDir dir;
  std::istringstream theirs(roost::testing::run_fixture(args, dir));
  for (const Size& s : sizes) {
    int resized_h = 0, resized_w = 0, top = 0, left = 0;
    ASSERT_TRUE(theirs >> resized_h >> resized_w >> top >> left);
    const ResizePlan plan = val_plan(s.h, s.w, s.resize_short, s.crop);
    const std::string where = std::to_string(s.h) + "x" + std::to_string(s.w);
    EXPECT_EQ(plan.resized_h, resized_h) << where;
    EXPECT_EQ(plan.resized_w, resized_w) << where;
    EXPECT_EQ(plan.offset_y, top) << where;
    EXPECT_EQ(plan.offset_x, left) << where;
    EXPECT_EQ(plan.out_h, s.crop);
    EXPECT_EQ(plan.out_w, s.crop);
    EXPECT_EQ(plan.box.height, s.h);
    EXPECT_EQ(plan.box.width, s.w);
    EXPECT_FALSE(plan.flip);
  }
}

TEST(DataTransforms, ValPlanRoundsHalfToEven) {
  // (257 - 224) / 2 = 16.5 rounds to 16; (259 - 224) / 2 = 17.5 rounds to 18.
  EXPECT_EQ(val_plan(257, 300, 257, 224).offset_y, 16);
  EXPECT_EQ(val_plan(259, 300, 259, 224).offset_y, 18);
  EXPECT_THROW(val_plan(100, 100, 200, 224), roost::UsageError);
}

TEST(DataTransforms, TrainPlanFlipsHalfTheTime) {
  std::mt19937_64 rng(123);
  const int count = 10000;
  int flips = 0;
  for (int i = 0; i < count; ++i) {
    const ResizePlan plan = train_plan(375, 500, 224, RandomResizedCropOptions{}, rng);
    flips += plan.flip;
    ASSERT_EQ(plan.resized_h, 224);
    ASSERT_EQ(plan.out_w, 224);
    ASSERT_EQ(plan.offset_x, 0);
  }
  EXPECT_NEAR(flips, count / 2, 5 * std::sqrt(count * 0.25));  // 5 sigma of a binomial
}

TEST(DataTransforms, SameSeedSamePlans) {
  std::mt19937_64 a(42), b(42);
  for (int i = 0; i < 100; ++i) {
    const ResizePlan pa = train_plan(300, 400, 224, RandomResizedCropOptions{}, a);
    const ResizePlan pb = train_plan(300, 400, 224, RandomResizedCropOptions{}, b);
    ASSERT_EQ(pa.box.top, pb.box.top);
    ASSERT_EQ(pa.box.left, pb.box.left);
    ASSERT_EQ(pa.box.height, pb.box.height);
    ASSERT_EQ(pa.box.width, pb.box.width);
    ASSERT_EQ(pa.flip, pb.flip);
  }
}

}  // namespace
}  // namespace roost::data
