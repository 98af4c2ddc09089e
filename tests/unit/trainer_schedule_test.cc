// trainer_schedule_test.cc — learning rates per step against the formulas: StepLR
// (lr · γ^⌊epoch/step⌋, as torch's StepLR stepped once per epoch), linear scaling with
// the world size, and the linear warmup (Horovod's ramp from lr to lr·N; from 0 without scaling).
#include <gtest/gtest.h>

#include <cmath>

#include "roost/core/error.h"
#include "roost/train/schedule.h"

using roost::train::LrSchedule;
using roost::train::TrainConfig;

TEST(LrSchedule, StepLrMatchesTorchFormula) {
  TrainConfig c;  // lr 0.001, step 7, gamma 0.1
  LrSchedule s(c, 4);
  for (int epoch = 0; epoch < 25; ++epoch) {
    const double want = 0.001 * std::pow(0.1, epoch / 7);
    EXPECT_DOUBLE_EQ(s.at(epoch, 0, 10), want) << "epoch " << epoch;
    EXPECT_DOUBLE_EQ(s.at(epoch, 9, 10), want) << "epoch " << epoch;
  }
  EXPECT_DOUBLE_EQ(s.at(6, 0, 10), 0.001);
  EXPECT_NEAR(s.at(7, 0, 10), 0.0001, 1e-15);
  EXPECT_NEAR(s.at(14, 0, 10), 0.00001, 1e-16);
}

TEST(LrSchedule, LinearScalingMultipliesByWorldSize) {
  TrainConfig c;
  c.lr = 0.01;
  c.lr_scaling = "linear";
  EXPECT_DOUBLE_EQ(LrSchedule(c, 8).at(0, 0, 5), 0.08);
  EXPECT_DOUBLE_EQ(LrSchedule(c, 1).at(0, 0, 5), 0.01);
  EXPECT_NEAR(LrSchedule(c, 8).at(7, 0, 5), 0.008, 1e-15);
}

TEST(LrSchedule, WarmupRampsFromSingleRankRateToScaledRate) {
  TrainConfig c;
  c.lr = 0.1;
  c.lr_scaling = "linear";
  c.warmup_epochs = 2;
  LrSchedule s(c, 4);  // 0.1 → 0.4 over 2 epochs of 10 steps
  for (int epoch = 0; epoch < 2; ++epoch)
    for (int step = 0; step < 10; ++step) {
      const double t = epoch + (step + 1) / 10.0;
      EXPECT_NEAR(s.at(epoch, step, 10), 0.1 + (0.4 - 0.1) * t / 2, 1e-12) << epoch << "/" << step;
    }
  EXPECT_DOUBLE_EQ(s.at(1, 9, 10), 0.4);  // the ramp ends exactly at the peak
  EXPECT_DOUBLE_EQ(s.at(2, 0, 10), 0.4);
  // Rates rise monotonically through the warmup.
  double last = 0;
  for (int i = 0; i < 20; ++i) {
    const double lr = s.at(i / 10, i % 10, 10);
    EXPECT_GT(lr, last);
    last = lr;
  }
}

TEST(LrSchedule, WarmupWithoutScalingStartsNearZero) {
  TrainConfig c;
  c.lr = 0.2;
  c.warmup_epochs = 1;
  LrSchedule s(c, 4);
  EXPECT_NEAR(s.at(0, 0, 4), 0.05, 1e-12);
  EXPECT_NEAR(s.at(0, 1, 4), 0.10, 1e-12);
  EXPECT_NEAR(s.at(0, 3, 4), 0.20, 1e-12);
  EXPECT_NEAR(s.at(1, 0, 4), 0.20, 1e-12);
}

TEST(LrSchedule, WarmupAndStepDecayCombine) {
  TrainConfig c;
  c.lr = 1.0;
  c.lr_step = 1;
  c.lr_gamma = 0.5;
  c.warmup_epochs = 2;
  LrSchedule s(c, 1);
  // epoch 1, last step: warmup factor (1 + 1)/2 · 0.5^1
  EXPECT_NEAR(s.at(1, 1, 2), 0.5, 1e-12);
  EXPECT_NEAR(s.at(1, 0, 2), 0.75 * 0.5, 1e-12);
}

TEST(PlanBatch, PerRankKeepsEachRanksBatchAndScalesWithTheRanks) {
  TrainConfig c;
  c.batch_size = 4;
  auto fresh = roost::train::plan_batch(c, 2, 0, 0);
  EXPECT_EQ(fresh.per_rank, 4);
  EXPECT_DOUBLE_EQ(fresh.lr_factor, 2);
  EXPECT_TRUE(fresh.note.empty());
  auto shrunk = roost::train::plan_batch(c, 1, 2, 4);  // written by 2 ranks of 4
  EXPECT_EQ(shrunk.per_rank, 4);
  EXPECT_DOUBLE_EQ(shrunk.lr_factor, 1);
  EXPECT_EQ(shrunk.note, "the global batch is now 4 (was 8) with --elastic-batch per-rank");
}

TEST(PlanBatch, GlobalKeepsTheCheckpointsGlobalBatchAndItsLrFactor) {
  TrainConfig c;
  c.batch_size = 4;
  c.elastic_batch = "global";
  auto fresh = roost::train::plan_batch(c, 2, 0, 0);  // a fresh start chooses the global batch
  EXPECT_EQ(fresh.per_rank, 4);
  EXPECT_DOUBLE_EQ(fresh.lr_factor, 2);
  auto one = roost::train::plan_batch(c, 1, 2, 4);  // 2 × 4 written, 1 rank now
  EXPECT_EQ(one.per_rank, 8);
  EXPECT_DOUBLE_EQ(one.lr_factor, 2);
  EXPECT_EQ(one.note, "each rank's batch is now 8 (the global batch 8 is kept; --elastic-batch global)");
  auto four = roost::train::plan_batch(c, 4, 1, 8);  // and on to 4 ranks: 2 each, the same lr
  EXPECT_EQ(four.per_rank, 2);
  EXPECT_DOUBLE_EQ(four.lr_factor, 2);
  auto same = roost::train::plan_batch(c, 1, 1, 8);  // a later resume at 1 rank keeps 8, not --batch-size
  EXPECT_EQ(same.per_rank, 8);
  EXPECT_THROW(roost::train::plan_batch(c, 3, 2, 4), roost::UsageError);  // 8 over 3 ranks
  c.lr_scaling = "linear";
  c.lr = 0.01;
  EXPECT_DOUBLE_EQ(LrSchedule(c, one.lr_factor).at(0, 0, 5), 0.02);
}
