// plot_training_curves_test.cc — the training-curve PNG read back with roost's PNG decoder: size, each
// series in its own panel, lines that follow the data's direction, antialiased text where the
// titles, legend and tick labels go, the percent accuracy axis, odd inputs (one epoch, NaN/inf,
// flat series, none, titles that are not UTF-8) and paths that cannot be written.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <set>
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
  auto [lo, hi] =
      std::minmax_element(pixels.begin(), pixels.end(), [](const Pixel& a, const Pixel& b) { return a.y < b.y; });
  return hi->y - lo->y + 1;
}

// Eight epochs of a run that overfits: training loss falls and accuracy rises while the
// validation loss rises and the validation accuracy falls.
std::vector<EpochPoint> overfitting_run() {
  std::vector<EpochPoint> points;
  for (int i = 0; i < 8; ++i)
    points.push_back(
        {i + 1, 2.3 * std::pow(0.75, i), 0.6 + 0.1 * i, 0.2 + 0.09 * i, 0.62 - 0.03 * i, 1500.0 + 40 * (i % 3)});
  return points;
}

data::Image write_and_read(const TempDir& dir, const std::vector<EpochPoint>& points,
                           const std::string& name = "curves.png",
                           const std::string& title = "resnet18 / fowl, 8 epochs") {
  const std::string path = dir.file(name);
  write_training_curves_png(path, points, title);
  return data::decode_file(path);
}

// Text pixels in the rectangle x0 <= x < x1, y0 <= y < y1: grey (r = g = b) and darker than
// the grid and frame lines, which are the only other greys.
int ink_pixels(const data::Image& image, int x0, int y0, int x1, int y1) {
  int n = 0;
  for (int y = y0; y < y1; ++y)
    for (int x = x0; x < x1; ++x) {
      const uint8_t* p = image.row(y) + x * 3;
      n += p[0] == p[1] && p[1] == p[2] && p[0] < 140;
    }
  return n;
}

// The distinct grey levels in the rectangle: a bitmap font gives two, antialiased glyphs many.
size_t grey_levels(const data::Image& image, int x0, int y0, int x1, int y1) {
  std::set<int> levels;
  for (int y = y0; y < y1; ++y)
    for (int x = x0; x < x1; ++x) {
      const uint8_t* p = image.row(y) + x * 3;
      if (p[0] == p[1] && p[1] == p[2]) levels.insert(p[0]);
    }
  return levels.size();
}

// The pixels of the rectangle, row by row.
std::vector<uint8_t> region(const data::Image& image, int x0, int y0, int x1, int y1) {
  std::vector<uint8_t> out;
  for (int y = y0; y < y1; ++y) out.insert(out.end(), image.row(y) + x0 * 3, image.row(y) + x1 * 3);
  return out;
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

TEST(PlotTrainingCurves, TitlesLegendAndTickLabelsAreAntialiasedText) {
  TempDir dir;
  const data::Image image = write_and_read(dir, overfitting_run());
  // The figure's title on the left of the top rows, the legend on their right.
  EXPECT_GT(ink_pixels(image, 0, 0, kPanelWidth, kPanelsTop), 150);
  EXPECT_GT(ink_pixels(image, 2 * kPanelWidth, 0, kCurvesWidth, kPanelsTop), 50);
  EXPECT_GT(grey_levels(image, 0, 0, kPanelWidth, kPanelsTop), 20u);
  // The legend's swatches carry the series' colours, above the panels.
  bool train_swatch = false, val_swatch = false;
  for (int y = 0; y < kPanelsTop; ++y)
    for (int x = 2 * kPanelWidth; x < kCurvesWidth; ++x) {
      const uint8_t* p = image.row(y) + x * 3;
      train_swatch |= p[0] == kTrainColor.r && p[1] == kTrainColor.g && p[2] == kTrainColor.b;
      val_swatch |= p[0] == kValColor.r && p[1] == kValColor.g && p[2] == kValColor.b;
    }
  EXPECT_TRUE(train_swatch);
  EXPECT_TRUE(val_swatch);
  for (int panel = 0; panel < 3; ++panel) {
    const int x0 = panel * kPanelWidth;
    // Panel title above the plot; y tick labels and axis title in the left margin; x tick
    // labels and "epoch" along the bottom.
    EXPECT_GT(ink_pixels(image, x0 + 100, kPanelsTop, x0 + kPanelWidth - 40, kPanelsTop + 28), 60) << panel;
    EXPECT_GT(ink_pixels(image, x0, kPanelsTop + 40, x0 + 70, kCurvesHeight - 60), 120) << panel;
    EXPECT_GT(ink_pixels(image, x0 + 80, kCurvesHeight - 45, x0 + kPanelWidth, kCurvesHeight), 150) << panel;
    EXPECT_GT(grey_levels(image, x0, kPanelsTop + 40, x0 + 70, kCurvesHeight - 60), 20u) << panel;
  }
}

TEST(PlotTrainingCurves, TheTitleIsDrawnAndALongOneLeavesTheLegendAlone) {
  TempDir dir;
  const data::Image short_title = write_and_read(dir, overfitting_run(), "short.png", "run 1");
  const data::Image other_title = write_and_read(dir, overfitting_run(), "other.png", "resnet50, 4 ranks");
  const data::Image long_title = write_and_read(dir, overfitting_run(), "long.png", std::string(400, 'W') + " the end");
  // Different titles, different top rows; the panels are the same.
  EXPECT_NE(region(short_title, 0, 0, kPanelWidth, kPanelsTop), region(other_title, 0, 0, kPanelWidth, kPanelsTop));
  EXPECT_EQ(region(short_title, 0, kPanelsTop, kCurvesWidth, kCurvesHeight),
            region(other_title, 0, kPanelsTop, kCurvesWidth, kCurvesHeight));
  // A title wider than the figure is cut before the legend: the legend's corner is as it is
  // under a short title, and the title fills most of the room left of it.
  EXPECT_EQ(region(long_title, kCurvesWidth - 230, 0, kCurvesWidth, kPanelsTop),
            region(short_title, kCurvesWidth - 230, 0, kCurvesWidth, kPanelsTop));
  EXPECT_GT(ink_pixels(long_title, 2 * kPanelWidth, 0, kCurvesWidth - 300, kPanelsTop), 100);
}

TEST(PlotTrainingCurves, TitleThatIsNotUtf8IsStillDrawn) {
  TempDir dir;
  // A stray continuation byte, a truncated sequence, an overlong '/', a control character.
  const std::string title = std::string("run \x80 \xe2\x82 \xc0\xaf \x01 ok \xc3\xa9t\xc3\xa9");
  const data::Image image = write_and_read(dir, overfitting_run(), "curves.png", title);
  EXPECT_GT(ink_pixels(image, 0, 0, kPanelWidth, kPanelsTop), 100);
  EXPECT_GT(pixels_of(image, 0, kTrainColor).size(), 300u);
  EXPECT_GT(pixels_of(image, 2, kThroughputColor).size(), 300u);
}

TEST(PlotTrainingCurves, AccuracyAxisIsAPercentScaleEndingAtHundred) {
  std::vector<EpochPoint> points = overfitting_run();
  points.back().train_acc = 0.73;
  for (const auto& axes : {training_curve_axes(points), training_curve_axes({{1, 0.4, 0.5, 0.73, 0.70, 10.0}})}) {
    ASSERT_EQ(axes.size(), 3u);
    const PanelAxis& acc = axes[1];
    EXPECT_EQ(acc.title, "accuracy (%)");
    EXPECT_LE(acc.lo, 70.0);
    EXPECT_GE(acc.hi, 73.0);
    EXPECT_LE(acc.hi, 100.0);
    ASSERT_FALSE(acc.labels.empty());
    for (const auto& label : acc.labels) {
      ASSERT_FALSE(label.empty());
      EXPECT_EQ(label.back(), '%') << label;
      EXPECT_GE(std::stod(label), 0.0) << label;
      EXPECT_LE(std::stod(label), 100.0) << label;
    }
    // The loss and throughput ticks carry no unit.
    for (const auto& label : axes[0].labels) EXPECT_NE(label.back(), '%') << label;
  }
  // Steady at 100 %: the axis stops at 100 % (the flat line's padding would reach 105).
  std::vector<EpochPoint> perfect;
  for (int e = 1; e <= 4; ++e) perfect.push_back({e, 0.01, 0.02, 1.0, 1.0, 1000.0});
  const PanelAxis acc = training_curve_axes(perfect)[1];
  EXPECT_DOUBLE_EQ(acc.hi, 100.0);
  EXPECT_LT(acc.lo, 100.0);
  EXPECT_EQ(acc.labels.back(), "100%");
  // Steady at 0 %: the axis starts at 0 %, not below.
  for (auto& p : perfect) p.train_acc = p.val_acc = 0.0;
  EXPECT_DOUBLE_EQ(training_curve_axes(perfect)[1].lo, 0.0);
  EXPECT_EQ(std::stod(training_curve_axes(perfect)[1].labels.front()), 0.0);
  // No accuracy at all: the whole 0-100 % scale, not 0-1 %.
  const PanelAxis empty = training_curve_axes({})[1];
  EXPECT_DOUBLE_EQ(empty.lo, 0.0);
  EXPECT_DOUBLE_EQ(empty.hi, 100.0);
  EXPECT_EQ(empty.labels.back(), "100%");
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
