// train_sgd_test.cc — roost's multi-tensor SGD against torch::optim::SGD: identical
// parameters (bitwise on CPU) after several steps, for plain, momentum, weight decay and
// Nesterov, including parameters that have no gradient in some steps, lengths that do and do
// not fill the fused loop's vectors, a channels-last parameter (fused, as a flat array) and a
// float64 one (libtorch's kernels).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "roost/train/sgd.h"

namespace roost::train {
namespace {

struct Case {
  double momentum, weight_decay;
  bool nesterov;
};

class SgdTest : public ::testing::TestWithParam<Case> {};

TEST_P(SgdTest, MatchesTorchOptimSgd) {
  const Case c = GetParam();
  torch::manual_seed(5);
  std::vector<torch::Tensor> ours, theirs;
  for (auto shape : {std::vector<int64_t>{7, 3}, {11}, {2, 3, 3, 3}, {4099}, {64, 32, 3, 3}}) {
    torch::Tensor init = torch::randn(shape);
    ours.push_back(init.clone().requires_grad_(true));
    theirs.push_back(init.clone().requires_grad_(true));
  }
  for (auto dtype : {torch::kFloat32, torch::kFloat64}) {
    torch::Tensor init = torch::randn({5, 6, 3, 3}, dtype).contiguous(torch::MemoryFormat::ChannelsLast);
    ours.push_back(init.clone().requires_grad_(true));
    theirs.push_back(init.clone().requires_grad_(true));
  }
  SgdOptions o;
  o.lr = 0.05;
  o.momentum = c.momentum;
  o.weight_decay = c.weight_decay;
  o.nesterov = c.nesterov;
  Sgd sgd(ours, o);
  torch::optim::SGD ref(
      theirs, torch::optim::SGDOptions(o.lr).momentum(c.momentum).weight_decay(c.weight_decay).nesterov(c.nesterov));
  for (int step = 0; step < 6; ++step) {
    for (size_t i = 0; i < ours.size(); ++i) {
      if (step == 2 && i == 1) {  // no gradient for this parameter in this step
        ours[i].mutable_grad() = torch::Tensor();
        theirs[i].mutable_grad() = torch::Tensor();
        continue;
      }
      torch::Tensor g =
          (torch::randn(ours[i].sizes(), ours[i].options()) + 0.1).contiguous(ours[i].suggest_memory_format());
      ours[i].mutable_grad() = g.clone();
      theirs[i].mutable_grad() = g.clone();
    }
    sgd.step();
    ref.step();
    for (size_t i = 0; i < ours.size(); ++i)
      ASSERT_TRUE(ours[i].equal(theirs[i]))
          << "step " << step << " param " << i << " max diff " << (ours[i] - theirs[i]).abs().max().item<double>();
  }
}

INSTANTIATE_TEST_SUITE_P(Variants, SgdTest,
                         ::testing::Values(Case{0, 0, false}, Case{0.9, 0, false}, Case{0.9, 1e-4, false},
                                           Case{0.9, 5e-4, true}),
                         [](const auto& info) {
                           const Case& c = info.param;
                           return std::string(c.momentum > 0 ? "momentum" : "plain") +
                                  (c.weight_decay > 0 ? "_decay" : "") + (c.nesterov ? "_nesterov" : "");
                         });

// Two lists of the same random parameters (of awkward shapes), each its own copy.
void twin_params(std::vector<torch::Tensor>& a, std::vector<torch::Tensor>& b) {
  for (auto shape : {std::vector<int64_t>{33, 3}, {1000}, {8, 4, 3, 3}, {5}}) {
    torch::Tensor init = torch::randn(shape);
    a.push_back(init.clone().requires_grad_(true));
    b.push_back(init.clone().requires_grad_(true));
  }
}

// The same random gradient for each pair of twins.
void twin_grads(std::vector<torch::Tensor>& a, std::vector<torch::Tensor>& b) {
  for (size_t i = 0; i < a.size(); ++i) {
    torch::Tensor g = torch::randn(a[i].sizes());
    a[i].mutable_grad() = g.clone();
    b[i].mutable_grad() = g.clone();
  }
}

TEST(Sgd, SteppingParametersInGroupsEqualsOneStep) {
  torch::manual_seed(9);
  std::vector<torch::Tensor> whole, grouped;
  twin_params(whole, grouped);
  SgdOptions o;
  o.lr = 0.1;
  o.momentum = 0.9;
  o.weight_decay = 1e-3;
  Sgd a(whole, o), b(grouped, o);
  for (int step = 0; step < 4; ++step) {
    twin_grads(whole, grouped);
    a.step();
    b.step({grouped[3], grouped[1]});  // in arrival order, not parameter order
    b.step({grouped[0]});
    b.step({grouped[2]});
    for (size_t i = 0; i < whole.size(); ++i)
      ASSERT_TRUE(whole[i].equal(grouped[i])) << "step " << step << " param " << i;
  }
  EXPECT_THROW(b.step({torch::zeros({5}).requires_grad_(true)}), std::exception);
}

TEST(Sgd, SteppingInSlicesEqualsOneStep) {
  // The shared update's way: every parameter stepped in slices of odd lengths, in no
  // particular order, with buffers given by share_momentum; the parameters and the momentum
  // buffers must be bitwise those of step(), for plain, Nesterov and dampened momentum, and
  // after a resume (buffers that exist already, their values copied into the shared ones).
  for (int variant = 0; variant < 4; ++variant) {
    const bool resumed = variant == 3;
    torch::manual_seed(11 + variant);
    std::vector<torch::Tensor> whole, sliced;
    twin_params(whole, sliced);
    SgdOptions o;
    o.lr = 0.05;
    o.momentum = 0.9;
    o.weight_decay = 1e-3;
    o.nesterov = variant == 1;
    o.dampening = variant == 2 ? 0.25 : 0.0;
    Sgd a(whole, o), b(sliced, o);
    if (const std::string why = b.slice_obstacle(); !why.empty()) GTEST_SKIP() << why;
    if (resumed) {  // one whole step first: the buffers exist when they are shared
      twin_grads(whole, sliced);
      a.step();
      b.step();
    }
    std::vector<torch::Tensor> shared;
    for (size_t i = 0; i < sliced.size(); ++i)  // the existing values, or a value the first step overwrites
      shared.push_back(resumed ? b.momentum_buffers()[i].clone() : torch::full_like(sliced[i], 7.0));
    b.share_momentum(shared);
    for (int step = 0; step < 3; ++step) {
      for (size_t i = 0; i < whole.size(); ++i) {
        torch::Tensor g = torch::randn(whole[i].sizes());
        whole[i].mutable_grad() = g;
        const int64_t n = g.numel();
        for (int64_t first = n; first > 0;) {  // from the end, slices of 1, 2, 3, ... elements
          const int64_t len = std::min<int64_t>(first, 1 + (n - first) % 7);
          first -= len;
          b.step_slice(sliced[i], first, len, g.data_ptr<float>() + first);
        }
      }
      a.step();
      b.end_sliced_step();
      for (size_t i = 0; i < whole.size(); ++i) {
        ASSERT_TRUE(whole[i].equal(sliced[i])) << "variant " << variant << " step " << step << " param " << i;
        ASSERT_TRUE(a.momentum_buffers()[i].equal(b.momentum_buffers()[i])) << "momentum of param " << i;
        EXPECT_EQ(b.momentum_buffers()[i].data_ptr(), shared[i].data_ptr()) << "the buffers are the shared ones";
      }
    }
    EXPECT_THROW(b.step_slice(sliced[3], 3, 3, nullptr), std::exception);  // past the end
  }
}

TEST(Sgd, ZeroGradReleasesGradientsAndBackwardStartsAfresh) {
  torch::Tensor p = torch::randn({4, 4}).requires_grad_(true);
  p.mutable_grad() = torch::ones({4, 4});
  Sgd sgd({p}, SgdOptions{});
  sgd.zero_grad();
  EXPECT_FALSE(p.grad().defined());
  (p * 3).sum().backward();  // the new gradient alone, nothing left of the old one
  EXPECT_TRUE(p.grad().eq(3).all().item<bool>());
  sgd.step();  // and a parameter without a gradient is left alone
  sgd.zero_grad();
  torch::Tensor before = p.detach().clone();
  sgd.step();
  EXPECT_TRUE(p.detach().equal(before));
}

}  // namespace
}  // namespace roost::train
