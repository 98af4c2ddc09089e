// --cuda-graphs: the choice of graph or eager steps, and the per-batch sequence.
#include <gtest/gtest.h>

#include "roost/core/error.h"
#include "roost/train/graph_policy.h"

namespace roost::train {
namespace {

GraphConditions capturable() {
  GraphConditions c;
  c.on_gpu = true;
  c.torch_cuda = true;
  return c;
}

TEST(CudaGraphs, ParsesTheThreeValuesAndNamesABadOne) {
  EXPECT_EQ(parse_cuda_graphs("auto"), CudaGraphs::kAuto);
  EXPECT_EQ(parse_cuda_graphs("on"), CudaGraphs::kOn);
  EXPECT_EQ(parse_cuda_graphs("off"), CudaGraphs::kOff);
  try {
    parse_cuda_graphs("yes");
    FAIL() << "accepted 'yes'";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("--cuda-graphs must be auto, on or off (got 'yes')"), std::string::npos);
  }
}

TEST(CudaGraphs, AutoUsesGraphsWhenNothingStandsInTheWay) {
  EXPECT_TRUE(choose_cuda_graphs(CudaGraphs::kAuto, capturable()).use);
  GraphConditions nccl = capturable();
  nccl.world = 8;  // NCCL exchange: inside the graph
  EXPECT_TRUE(choose_cuda_graphs(CudaGraphs::kOn, nccl).use);
  EXPECT_FALSE(choose_cuda_graphs(CudaGraphs::kOff, nccl).use);
  EXPECT_EQ(choose_cuda_graphs(CudaGraphs::kOff, nccl).reason, "");
}

TEST(CudaGraphs, EachObstacleIsNamedByAutoAndRefusedByOn) {
  struct Case {
    void (*change)(GraphConditions&);
    const char* says;
  };
  const Case cases[] = {
      {[](GraphConditions& c) { c.on_gpu = false; }, "on the CPU"},
      {[](GraphConditions& c) { c.torch_cuda = false; }, "libtorch without CUDA"},
      {[](GraphConditions& c) { c.world = 2, c.device_exchange = false; }, "MPI through host memory"},
      {[](GraphConditions& c) { c.backward_passes_per_step = 2; }, "--backward-passes-per-step"},
      {[](GraphConditions& c) { c.sync_bn = true, c.world = 2; }, "--sync-bn"},
      {[](GraphConditions& c) { c.timeline = true; }, "--timeline"},
      {[](GraphConditions& c) { c.fp16_allreduce = true; }, "--fp16-allreduce"},
      {[](GraphConditions& c) { c.shared_update = true; }, "shared update"},
  };
  for (const Case& k : cases) {
    GraphConditions c = capturable();
    k.change(c);
    const GraphChoice choice = choose_cuda_graphs(CudaGraphs::kAuto, c);
    EXPECT_FALSE(choice.use) << k.says;
    EXPECT_NE(choice.reason.find(k.says), std::string::npos) << choice.reason;
    try {
      choose_cuda_graphs(CudaGraphs::kOn, c);
      ADD_FAILURE() << "--cuda-graphs on accepted: " << k.says;
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find(std::string("--cuda-graphs on: ") + choice.reason), std::string::npos);
    }
  }
  GraphConditions one_rank_sync_bn = capturable();
  one_rank_sync_bn.sync_bn = true;  // one rank: no exchange of statistics
  EXPECT_TRUE(choose_cuda_graphs(CudaGraphs::kAuto, one_rank_sync_bn).use);
}

TEST(CudaGraphs, WarmsUpCapturesThenReplaysFullBatchesOnly) {
  GraphSequencer s(2);
  EXPECT_EQ(s.next(32), StepKind::kWarmup);
  EXPECT_EQ(s.next(0), StepKind::kEager);  // an empty or skipped batch
  EXPECT_EQ(s.next(32), StepKind::kWarmup);
  EXPECT_EQ(s.next(20), StepKind::kEager);  // an epoch's short last batch
  EXPECT_EQ(s.next(32), StepKind::kCapture);
  s.captured();
  EXPECT_EQ(s.next(32), StepKind::kReplay);
  EXPECT_EQ(s.next(20), StepKind::kEager);
  EXPECT_EQ(s.next(32), StepKind::kReplay);
  EXPECT_EQ(s.replays(), 2);
  EXPECT_EQ(s.capture_size(), 32);
}

TEST(CudaGraphs, AFailedCaptureLeavesEveryLaterStepEager) {
  GraphSequencer s(1);
  EXPECT_EQ(s.next(8), StepKind::kWarmup);
  EXPECT_EQ(s.next(8), StepKind::kCapture);
  s.failed("operation not permitted when stream is capturing");
  EXPECT_TRUE(s.has_failed());
  EXPECT_FALSE(s.is_captured());
  for (int i = 0; i < 3; ++i) EXPECT_EQ(s.next(8), StepKind::kEager);
  EXPECT_EQ(s.failure(), "operation not permitted when stream is capturing");
}

TEST(CudaGraphs, PlanLooksWithoutTakingTheStep) {
  GraphSequencer s(1);
  EXPECT_EQ(s.plan(8), StepKind::kWarmup);
  EXPECT_EQ(s.plan(8), StepKind::kWarmup);  // not taken: the ranks did not agree
  s.advance(StepKind::kEager, 8);           // an eager step changes nothing
  EXPECT_EQ(s.capture_size(), -1);
  s.advance(StepKind::kWarmup, 8);
  EXPECT_EQ(s.capture_size(), 8);
  EXPECT_EQ(s.plan(8), StepKind::kCapture);
  EXPECT_EQ(s.plan(6), StepKind::kEager);
}

TEST(CudaGraphs, AtLeastOneWarmupStep) {
  GraphSequencer s(0);
  EXPECT_EQ(s.next(4), StepKind::kWarmup);
  EXPECT_EQ(s.next(4), StepKind::kCapture);
}

}  // namespace
}  // namespace roost::train
