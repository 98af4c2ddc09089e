// plot_training_curves_test.cc — the training-curve PNG read back with roost's PNG decoder: size, each
// series in its own panel, lines that follow the data's direction, odd inputs (one epoch,
// NaN/inf, flat series, none) and paths that cannot be written.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "python_peer.h"
#include "roost/core/error.h"
#include "roost/data/decode.h"
#include "roost/train/plot.h"

namespace roost::train {
namespace {

namespace fs = std::filesystem;
using roost::testing::TempDir;

constexpr int kPanelWidth = kCurvesWidth / 3;
// The figure's title and legend live in the rows above this; the panels below it.
constexpr int kPanelsTop = 40;

struct Pixel {
  int x, y;
};

// Pixels of exactly `color` in panel `panel` (0 loss, 1 accuracy, 2 throughput).
std::vector<Pixel> pixels_of(const data::Image& image, int panel, PlotColor color) {
  std::vector<Pixel> found;
  for (int y = kPanelsTop; y < image.height; ++y)
    for (int x = panel * kPanelWidth; x < (panel + 1) * kPanelWidth; ++x) {
      const uint8_t* p = image.row(y) + x * 3;
      if (p[0] == color.r && p[1] == color.g && p[2] == color.b) found.push_back({x, y});
    }
  return found;
}

// Mean row of the pixels in each of `bins` equal slices of their horizontal extent, left
// to right. Rows grow downward, so a falling series gives rising means.
std::vector<double> mean_rows_by_column(const std::vector<Pixel>& pixels, int bins) {
  int x_min = kCurvesWidth, x_max = -1;
  for (const auto& p : pixels) x_min = std::min(x_min, p.x), x_max = std::max(x_max, p.x);
  std::vector<double> sum(bins, 0), count(bins, 0);
  for (const auto& p : pixels) {
    const int bin = std::min(bins - 1, (p.x - x_min) * bins / std::max(1, x_max - x_min + 1));
    sum[bin] += p.y, count[bin] += 1;
  }
  std::vector<double> means(bins, NAN);
  for (int i = 0; i < bins; ++i)
    if (count[i] > 0) means[i] = sum[i] / count[i];
  return means;
}

bool strictly_increasing(const std::vector<double>& v) {
  for (size_t i = 1; i < v.size(); ++i)
    if (!(v[i] > v[i - 1])) return false;
  return true;
}

bool strictly_decreasing(const std::vector<double>& v) {
  for (size_t i = 1; i < v.size(); ++i)
    if (!(v[i] < v[i - 1])) return false;
  return true;
}

int row_extent(const std::vector<Pixel>& pixels) {
  if (pixels.empty()) return 0;
  auto [lo, hi] = std::minmax_element(pixels.begin(), pixels.end(),
                                      [](const Pixel& a, const Pixel& b) { return a.y < b.y; });
  return hi->y - lo->y + 1;
}

// Eight epochs of a run that overfits: training loss falls and accuracy rises while the
// validation loss rises and the validation accuracy falls.
std::vector<EpochPoint> overfitting_run() {
  std::vector<EpochPoint> points;
  for (int i = 0; i < 8; ++i)
    points.push_back({i + 1, 2.3 * std::pow(0.75, i), 0.6 + 0.1 * i, 0.2 + 0.09 * i, 0.62 - 0.03 * i,
                      1500.0 + 40 * (i % 3)});
  return points;
}

data::Image write_and_read(const TempDir& dir, const std::vector<EpochPoint>& points,
                           const std::string& name = "curves.png") {
  const std::string path = dir.file(name);
  write_training_curves_png(path, points, "resnet18 / fowl, 8 epochs");
  return data::decode_file(path);
}

TEST(PlotTrainingCurves, HasTheFigureSizeAndEachSeriesInItsPanel) {
  TempDir dir;
  const data::Image image = write_and_read(dir, overfitting_run());
  ASSERT_EQ(image.width, kCurvesWidth);
  ASSERT_EQ(image.height, kCurvesHeight);

  for (int panel : {0, 1}) {
    EXPECT_GT(pixels_of(image, panel, kTrainColor).size(), 300u) << "panel " << panel;
    EXPECT_GT(pixels_of(image, panel, kValColor).size(), 300u) << "panel " << panel;
    EXPECT_EQ(pixels_of(image, panel, kThroughputColor).size(), 0u) << "panel " << panel;
  }
  EXPECT_GT(pixels_of(image, 2, kThroughputColor).size(), 300u);
  EXPECT_EQ(pixels_of(image, 2, kTrainColor).size(), 0u);
  EXPECT_EQ(pixels_of(image, 2, kValColor).size(), 0u);
}

TEST(PlotTrainingCurves, LinesFollowTheDirectionOfTheData) {
  TempDir dir;
  const data::Image image = write_and_read(dir, overfitting_run());
  // Loss panel: training loss falls (pixels move down), validation loss rises (up).
  const auto train_loss = mean_rows_by_column(pixels_of(image, 0, kTrainColor), 4);
  const auto val_loss = mean_rows_by_column(pixels_of(image, 0, kValColor), 4);
  EXPECT_TRUE(strictly_increasing(train_loss)) << ::testing::PrintToString(train_loss);
  EXPECT_TRUE(strictly_decreasing(val_loss)) << ::testing::PrintToString(val_loss);
  // The falling loss spans most of the plot height (about 270 rows), not a sliver.
  EXPECT_GT(train_loss.back() - train_loss.front(), 150);
  // Accuracy panel: the opposite directions.
  const auto train_acc = mean_rows_by_column(pixels_of(image, 1, kTrainColor), 4);
  const auto val_acc = mean_rows_by_column(pixels_of(image, 1, kValColor), 4);
  EXPECT_TRUE(strictly_decreasing(train_acc)) << ::testing::PrintToString(train_acc);
  EXPECT_TRUE(strictly_increasing(val_acc)) << ::testing::PrintToString(val_acc);
}

TEST(PlotTrainingCurves, EpochOrderDoesNotMatter) {
  TempDir dir;
  std::vector<EpochPoint> shuffled = overfitting_run();
  std::reverse(shuffled.begin(), shuffled.end());
  std::swap(shuffled[1], shuffled[5]);
  const data::Image ordered = write_and_read(dir, overfitting_run(), "ordered.png");
  const data::Image unordered = write_and_read(dir, shuffled, "unordered.png");
  EXPECT_EQ(ordered.pixels, unordered.pixels);
}

TEST(PlotTrainingCurves, SingleEpochIsAMarker) {
  TempDir dir;
  const data::Image image = write_and_read(dir, {{1, 2.3, 2.2, 0.1, 0.12, 900.0}});
  ASSERT_EQ(image.width, kCurvesWidth);
  // A marker, no line: a few dozen pixels of each colour.
  for (int panel : {0, 1}) {
    EXPECT_GT(pixels_of(image, panel, kTrainColor).size(), 20u);
    EXPECT_GT(pixels_of(image, panel, kValColor).size(), 20u);
  }
  EXPECT_GT(pixels_of(image, 2, kThroughputColor).size(), 20u);
}

TEST(PlotTrainingCurves, SkipsNanAndInfinity) {
  TempDir dir;
  std::vector<EpochPoint> points = overfitting_run();
  const double inf = std::numeric_limits<double>::infinity();
  points[2].train_loss = NAN;
  points[5].train_loss = inf;
  points[3].images_per_sec = -inf;
  for (auto& p : points) p.val_loss = NAN, p.val_acc = NAN;  // no validation split
  const data::Image image = write_and_read(dir, points);

  const auto train_loss = pixels_of(image, 0, kTrainColor);
  EXPECT_GT(train_loss.size(), 200u);
  // Were the infinity counted in the range, the finite points would squash into one row.
  EXPECT_GT(row_extent(train_loss), 150);
  EXPECT_EQ(pixels_of(image, 0, kValColor).size(), 0u);
  EXPECT_EQ(pixels_of(image, 1, kValColor).size(), 0u);
  EXPECT_GT(pixels_of(image, 1, kTrainColor).size(), 300u);
  EXPECT_GT(row_extent(pixels_of(image, 2, kThroughputColor)), 30);
}

TEST(PlotTrainingCurves, ConstantSeriesIsAFlatLine) {
  TempDir dir;
  std::vector<EpochPoint> points;
  for (int e = 0; e < 6; ++e) points.push_back({e, 1.0, 1.0, 0.5, 0.5, 1000.0});
  const data::Image image = write_and_read(dir, points);
  const auto throughput = pixels_of(image, 2, kThroughputColor);
  EXPECT_GT(throughput.size(), 300u);
  EXPECT_LT(row_extent(throughput), 12);  // line width plus markers
}

TEST(PlotTrainingCurves, NoPointsGivesEmptyAxes) {
  TempDir dir;
  const data::Image image = write_and_read(dir, {});
  ASSERT_EQ(image.width, kCurvesWidth);
  EXPECT_EQ(pixels_of(image, 0, kTrainColor).size(), 0u);
}

TEST(PlotTrainingCurves, ReplacesAnExistingFileAndLeavesNoTemporary) {
  TempDir dir;
  const std::string path = dir.file("curves.png");
  roost::testing::write_bytes(path, {'o', 'l', 'd'});
  write_training_curves_png(path, overfitting_run(), "run");
  EXPECT_EQ(data::decode_file(path).width, kCurvesWidth);
  int entries = 0;
  for (const auto& entry : fs::directory_iterator(fs::path(path).parent_path())) {
    ++entries;
    EXPECT_EQ(entry.path().filename(), "curves.png");
  }
  EXPECT_EQ(entries, 1);
}

TEST(PlotTrainingCurves, UnwritablePathThrowsNamingIt) {
  TempDir dir;
  // Tests may run as root, for whom permission bits do not stop a write; a folder that
  // does not exist, or a regular file in the place of a folder, stops everyone.
  roost::testing::write_bytes(dir.file("file"), {'x'});
  for (const std::string& path : {dir.file("missing/curves.png"), dir.file("file/curves.png")}) {
    try {
      write_training_curves_png(path, overfitting_run(), "run");
      ADD_FAILURE() << "no error for " << path;
    } catch (const Error& e) {
      EXPECT_NE(e.message().find(path), std::string::npos) << e.message();
    }
  }
}

}  // namespace
}  // namespace roost::train
