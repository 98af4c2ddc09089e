// model_folded_resnet_test.cc — FoldedResNet (BatchNorm folded into the convolutions; dense,
// ATen's mkldnn ops, or oneDNN directly with Winograd) gives the module's eval-mode logits up to float rounding, for a
// BasicBlock and a Bottleneck network with non-trivial BatchNorm statistics, and an image's logits do not depend on its
// batch-mates.
#include <gtest/gtest.h>

#include "roost/model/folded_resnet.h"
#include "roost/model/resnet.h"

namespace roost::model {
namespace {

// A network whose BatchNorms are far from identity, as after training (or, with `stats`
// false, the same convolutions with fresh BatchNorms).
ResNet trained_looking(const std::string& arch, bool stats = true) {
  torch::manual_seed(1);
  ResNetOptions o;
  o.arch = arch;
  o.num_classes = 5;
  ResNet net = make_resnet(o);
  torch::NoGradGuard no_grad;
  for (auto& m : net->modules(false))
    if (auto* bn = m->as<SyncableBatchNormImpl>(); bn && stats) {
      bn->running_mean.normal_(0, 0.2), bn->running_var.uniform_(0.3, 2.0);
      bn->weight.uniform_(0.5, 1.5), bn->bias.normal_(0, 0.2);
    }
  net->eval();
  return net;
}

torch::Tensor module_logits(ResNet& net, const torch::Tensor& x) {
  torch::NoGradGuard no_grad;
  return net->forward(x);
}

// Largest difference relative to the largest logit.
double relative_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>() / std::max(1e-12, b.abs().max().item<double>());
}

std::vector<FoldedResNet::Backend> backends() {
  std::vector<FoldedResNet::Backend> v{FoldedResNet::Backend::Dense};
  if (torch::hasMKLDNN()) v.push_back(FoldedResNet::Backend::Mkldnn);
  if (FoldedResNet::has_onednn()) v.push_back(FoldedResNet::Backend::Onednn);
  return v;
}

TEST(FoldedResNet, EqualsTheModuleUpToRounding) {
  for (const char* arch : {"resnet18", "resnet50"}) {
    ResNet net = trained_looking(arch);
    const torch::Tensor x = torch::randn({3, 3, 64, 64});
    const torch::Tensor want = module_logits(net, x);
    // The statistics matter: the same convolutions with fresh BatchNorms are far off, so the
    // agreement below is not that of two networks that ignore BatchNorm.
    ResNet fresh = trained_looking(arch, /*stats=*/false);
    EXPECT_GT(relative_diff(module_logits(fresh, x), want), 1e-2) << arch;
    for (const auto backend : backends()) {
      const FoldedResNet folded(*net, backend);
      const torch::Tensor got = folded.forward(x);
      ASSERT_EQ(got.sizes(), want.sizes());
      EXPECT_LT(relative_diff(got, want), 1e-4) << arch << " backend " << static_cast<int>(backend);
    }
  }
}

TEST(FoldedResNet, AnImagesLogitsDoNotDependOnItsBatch) {
  ResNet net = trained_looking("resnet18");
  const torch::Tensor x = torch::randn({4, 3, 48, 48});
  for (const auto backend : backends()) {
    const FoldedResNet folded(*net, backend);
    const torch::Tensor together = folded.forward(x);
    for (int64_t i = 0; i < x.size(0); ++i)
      EXPECT_LT(relative_diff(folded.forward(x.slice(0, i, i + 1)), together.slice(0, i, i + 1)), 1e-5)
          << "image " << i << " backend " << static_cast<int>(backend);
  }
}

TEST(FoldedResNet, KeepsItsOwnCopyOfTheWeights) {
  ResNet net = trained_looking("resnet18");
  const torch::Tensor x = torch::randn({1, 3, 32, 32});
  const FoldedResNet folded(*net);
  const torch::Tensor before = folded.forward(x);
  {
    torch::NoGradGuard no_grad;
    for (auto& p : net->parameters()) p.zero_();
  }
  EXPECT_TRUE(torch::equal(folded.forward(x), before));
}

}  // namespace
}  // namespace roost::model
