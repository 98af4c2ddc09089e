// model_batch_norm_test.cc — roost's BatchNorm module: identical to torch::nn::BatchNorm2d
// (names, forward in both modes, running statistics), and its synchronized path with a
// single rank (the sum over ranks is the identity) gives the same outputs, input and
// parameter gradients and running statistics as plain BatchNorm.
#include <gtest/gtest.h>

#include "roost/model/batch_norm.h"

using roost::model::BatchNormSync;
using roost::model::SyncableBatchNorm;

namespace {
struct SingleRank : BatchNormSync {
  int calls = 0;
  void allreduce_sum(torch::Tensor&) override { ++calls; }
};

torch::nn::BatchNorm2dOptions options(int64_t c) { return torch::nn::BatchNorm2dOptions(c).eps(1e-5).momentum(0.1); }
}  // namespace

TEST(SyncableBatchNorm, SameNamesAndComputationAsTorch) {
  torch::manual_seed(1);
  SyncableBatchNorm ours(options(5));
  torch::nn::BatchNorm2d ref(options(5));
  std::vector<std::string> a, b;
  for (const auto& p : ours->named_parameters()) a.push_back(p.key());
  for (const auto& p : ours->named_buffers()) a.push_back(p.key());
  for (const auto& p : ref->named_parameters()) b.push_back(p.key());
  for (const auto& p : ref->named_buffers()) b.push_back(p.key());
  EXPECT_EQ(a, b);
  torch::Tensor x = torch::randn({6, 5, 4, 3}) * 3 + 1;
  EXPECT_TRUE(torch::allclose(ours->forward(x), ref->forward(x), 1e-6, 1e-6));
  EXPECT_TRUE(torch::allclose(ours->running_var, ref->running_var, 1e-6, 1e-7));
  EXPECT_EQ(ours->num_batches_tracked.item<int64_t>(), 1);
  ours->eval();
  ref->eval();
  EXPECT_TRUE(torch::allclose(ours->forward(x), ref->forward(x), 1e-6, 1e-6));
}

TEST(SyncableBatchNorm, SynchronizedPathEqualsPlainOnOneRank) {
  torch::manual_seed(2);
  SyncableBatchNorm synced(options(4)), plain(options(4));
  {
    torch::NoGradGuard no_grad;
    synced->weight.uniform_(0.5, 1.5);
    synced->bias.uniform_(-0.5, 0.5);
    plain->weight.copy_(synced->weight);
    plain->bias.copy_(synced->bias);
  }
  SingleRank sync;
  synced->set_sync(&sync);
  torch::Tensor x = torch::randn({8, 4, 5, 5}) * 2 + 0.5;
  torch::Tensor x1 = x.clone().requires_grad_(true), x2 = x.clone().requires_grad_(true);
  torch::Tensor w = torch::randn({8, 4, 5, 5});
  torch::Tensor y1 = synced->forward(x1), y2 = plain->forward(x2);
  EXPECT_EQ(sync.calls, 1);
  EXPECT_TRUE(torch::allclose(y1, y2, 1e-5, 1e-5)) << (y1 - y2).abs().max();
  (y1 * w).sum().backward();
  (y2 * w).sum().backward();
  EXPECT_EQ(sync.calls, 2);  // backward sums the gradient statistics too
  EXPECT_TRUE(torch::allclose(x1.grad(), x2.grad(), 1e-4, 1e-5)) << (x1.grad() - x2.grad()).abs().max();
  EXPECT_TRUE(torch::allclose(synced->weight.grad(), plain->weight.grad(), 1e-4, 1e-4));
  EXPECT_TRUE(torch::allclose(synced->bias.grad(), plain->bias.grad(), 1e-4, 1e-4));
  EXPECT_TRUE(torch::allclose(synced->running_mean, plain->running_mean, 1e-6, 1e-6));
  EXPECT_TRUE(torch::allclose(synced->running_var, plain->running_var, 1e-5, 1e-6));
  EXPECT_EQ(synced->num_batches_tracked.item<int64_t>(), 1);
}

namespace {
struct TinyNetImpl : torch::nn::Module {
  TinyNetImpl() {
    conv1 = register_module("conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 6, 3).bias(false)));
    bn1 = register_module("bn1", SyncableBatchNorm(options(6)));
    conv2 = register_module("conv2", torch::nn::Conv2d(torch::nn::Conv2dOptions(6, 8, 3).bias(false)));
    bn2 = register_module("bn2", SyncableBatchNorm(options(8)));
    fc = register_module("fc", torch::nn::Linear(8, 3));
  }
  torch::Tensor forward(torch::Tensor x) {
    x = torch::relu(bn1(conv1(x)));
    x = torch::relu(bn2(conv2(x)));
    return fc(torch::flatten(torch::adaptive_avg_pool2d(x, {1, 1}), 1));
  }
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
  SyncableBatchNorm bn1{nullptr}, bn2{nullptr};
  torch::nn::Linear fc{nullptr};
};
TORCH_MODULE(TinyNet);
}  // namespace

// Several SGD steps: the synchronized path must track plain BatchNorm step after step.
TEST(SyncableBatchNorm, SynchronizedTrainingTracksPlainOverSteps) {
  torch::manual_seed(3);
  TinyNet a, b;
  {
    torch::NoGradGuard no_grad;
    auto pa = a->parameters(), pb = b->parameters();
    for (size_t i = 0; i < pa.size(); ++i) pb[i].copy_(pa[i]);
  }
  SingleRank sync;
  roost::model::set_batch_norm_sync(*b, &sync);
  for (int step = 0; step < 4; ++step) {
    torch::Tensor x = torch::randn({6, 3, 7, 7}) * 2 + 0.3;
    torch::Tensor labels = torch::randint(0, 3, {6}, torch::kLong);
    for (TinyNet* net : {&a, &b}) {
      (*net)->zero_grad();
      torch::cross_entropy_loss((*net)->forward(x), labels).backward();
      torch::NoGradGuard no_grad;
      for (auto& p : (*net)->parameters()) p.sub_(p.grad() * 0.5);
    }
    auto pa = a->named_parameters(), pb = b->named_parameters();
    for (size_t i = 0; i < pa.size(); ++i)
      EXPECT_TRUE(torch::allclose(pa[i].value(), pb[i].value(), 1e-4, 1e-5))
          << "step " << step << " " << pa[i].key() << " differs by " << (pa[i].value() - pb[i].value()).abs().max();
  }
}
