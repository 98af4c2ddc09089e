// train_amp_test.cc — the fp16 loss scaler's schedule and the finiteness check it relies on.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include <torch/torch.h>

#include "roost/train/amp.h"

namespace roost::train {
namespace {

TEST(LossScaler, HalvesOnOverflowAndDoublesAfterCleanSteps) {
  LossScaler scaler(true, 1024.0, 3);
  EXPECT_TRUE(scaler.update(true));
  EXPECT_TRUE(scaler.update(true));
  EXPECT_EQ(scaler.scale(), 1024.0);
  EXPECT_EQ(scaler.clean_steps(), 2);
  EXPECT_FALSE(scaler.update(false));  // the step is skipped
  EXPECT_EQ(scaler.scale(), 512.0);
  EXPECT_EQ(scaler.clean_steps(), 0);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(scaler.update(true));
  EXPECT_EQ(scaler.scale(), 1024.0);
  scaler.restore(64.0, 1);
  EXPECT_EQ(scaler.scale(), 64.0);
  EXPECT_EQ(scaler.clean_steps(), 1);

  LossScaler off(false);
  EXPECT_EQ(off.scale(), 1.0);
  EXPECT_TRUE(off.update(false));  // without scaling every step is taken
  off.restore(8.0, 3);
  EXPECT_EQ(off.scale(), 1.0);
}

TEST(AllFinite, FindsAnyInfOrNanInAnyTensor) {
  std::vector<torch::Tensor> grads{torch::randn({3, 4}), torch::randn({7}), torch::randn({2, 2, 2})};
  EXPECT_TRUE(all_finite(grads));
  EXPECT_TRUE(all_finite({}));
  for (size_t t = 0; t < grads.size(); ++t) {
    for (float bad : {std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(), std::nanf("")}) {
      std::vector<torch::Tensor> copy;
      for (auto& g : grads) copy.push_back(g.clone());
      copy[t].view(-1)[copy[t].numel() - 1] = bad;
      EXPECT_FALSE(all_finite(copy)) << "tensor " << t << " holding " << bad;
    }
  }
  std::vector<torch::Tensor> with_undefined{torch::ones({2}), torch::Tensor(), torch::zeros({1}, torch::kFloat16)};
  EXPECT_TRUE(all_finite(with_undefined));
  with_undefined[2][0] = std::numeric_limits<float>::infinity();  // float16 overflows too
  EXPECT_FALSE(all_finite(with_undefined));
}

}  // namespace
}  // namespace roost::train
