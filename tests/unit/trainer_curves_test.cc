// The curves the trainer draws show what metrics.jsonl says: an accuracy of 0.73 is plotted
// at 73 on a percent axis (it once showed 7300: scaled once by the trainer and again by the
// plot). Goes through the trainer's own conversion (curve_points) and reads the axes the
// figure draws.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "roost/train/run_outputs.h"

namespace roost::train {
namespace {

std::vector<EpochRecord> history() {
  std::vector<EpochRecord> h;
  const double train_acc[] = {0.52, 0.61, 0.73}, val_acc[] = {0.55, 0.64, 0.70};
  for (int i = 0; i < 3; ++i) {
    EpochRecord r;
    r.epoch = i + 1;
    r.train_loss = 0.9 - 0.2 * i;
    r.val_loss = 0.8 - 0.1 * i;
    r.train_acc = train_acc[i];
    r.val_acc = val_acc[i];
    r.images_per_sec = 120 + i;
    h.push_back(r);
  }
  return h;
}

TEST(TrainingCurves, AccuracyAxisIsInPercentAndCoversTheValues) {
  const std::vector<PanelAxis> axes = training_curve_axes(curve_points(history()));
  ASSERT_EQ(axes.size(), 3u);
  const PanelAxis& acc = axes[1];
  EXPECT_EQ(acc.title, "accuracy (%)");
  EXPECT_LE(acc.lo, 52.0);
  EXPECT_GE(acc.hi, 73.0);
  EXPECT_LE(acc.hi, 100.0) << "accuracy axis runs to " << acc.hi;
  ASSERT_FALSE(acc.labels.empty());
  for (const auto& label : acc.labels) {
    const double v = std::stod(label);
    EXPECT_GE(v, 0.0) << label;
    EXPECT_LE(v, 100.0) << label;
  }
}

TEST(TrainingCurves, LossAndThroughputAxesAreInTheirOwnUnits) {
  const std::vector<PanelAxis> axes = training_curve_axes(curve_points(history()));
  EXPECT_EQ(axes[0].title, "loss");
  EXPECT_LE(axes[0].lo, 0.5);
  EXPECT_GE(axes[0].hi, 0.9);
  EXPECT_LT(axes[0].hi, 2.0);
  EXPECT_EQ(axes[2].title, "throughput (images/s)");
  EXPECT_LE(axes[2].lo, 120.0);
  EXPECT_GE(axes[2].hi, 122.0);
  EXPECT_LT(axes[2].hi, 200.0);
}

TEST(TrainingCurves, CurvePointsKeepTheRecordsFractions) {
  const std::vector<EpochPoint> points = curve_points(history());
  ASSERT_EQ(points.size(), 3u);
  EXPECT_EQ(points[2].epoch, 3);
  EXPECT_DOUBLE_EQ(points[2].train_acc, 0.73);
  EXPECT_DOUBLE_EQ(points[2].val_acc, 0.70);
}

}  // namespace
}  // namespace roost::train
