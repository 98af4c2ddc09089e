// step_graph_test.cc — StepGraph on a real GPU: a small training step (forward, backward into
// preallocated gradients, an SGD update whose learning rate is a device scalar) captured once
// and replayed gives the same parameters as the same step run eagerly, while the learning
// rate changes between replays; a step that synchronizes with the host inside the capture
// is refused with CUDA's reason and leaves the graph empty. Skips without a CUDA libtorch
// and device.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "roost/core/error.h"
#include "roost/gpu/step_graph.h"
#include "roost/model/resnet.h"

namespace roost::gpu {
namespace {

struct Net {
  model::ResNet net;
  std::vector<torch::Tensor> params, grads;
  torch::Tensor x, y, lr;
};

Net make_net(torch::Device dev) {
  torch::manual_seed(5);
  model::ResNetOptions mo;
  mo.num_classes = 4;
  Net n{model::make_resnet(mo), {}, {}, {}, {}, {}};
  n.net->to(dev);
  n.net->train();
  n.params = n.net->parameters();
  for (auto& p : n.params) {
    n.grads.push_back(torch::zeros_like(p));
    p.mutable_grad() = n.grads.back();
  }
  n.x = torch::randn({8, 3, 32, 32}, torch::TensorOptions().device(dev));
  n.y = torch::randint(0, 4, {8}, torch::TensorOptions().device(dev).dtype(torch::kInt64));
  n.lr = torch::zeros({}, torch::TensorOptions().device(dev));
  return n;
}

void step(Net& n) {
  for (auto& g : n.grads) g.zero_();
  torch::cross_entropy_loss(n.net->forward(n.x), n.y).backward();
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < n.params.size(); ++i) n.params[i].sub_(n.grads[i] * n.lr);
}

bool have_gpu() { return StepGraph::cuda_available() && torch::cuda::is_available(); }

TEST(StepGraph, ReplaysTrainLikeEagerStepsWithADeviceLearningRate) {
  if (!have_gpu()) GTEST_SKIP() << "no CUDA libtorch or no device";
  torch::Device dev(torch::kCUDA, 0);
  Net eager = make_net(dev), graphed = make_net(dev);
  StepGraph graph;
  const double rates[] = {0.1, 0.05, 0.02, 0.2, 0.01, 0.03};
  for (int i = 0; i < 6; ++i) {
    eager.lr.fill_(rates[i]);
    step(eager);
    graphed.lr.fill_(rates[i]);
    if (i < 2) {
      graph.warmup([&] { step(graphed); });
    } else {
      if (!graph.captured()) graph.capture([&] { step(graphed); });
      graph.replay();
    }
  }
  torch::cuda::synchronize();
  double worst = 0;
  for (size_t i = 0; i < eager.params.size(); ++i)
    worst = std::max(worst, (eager.params[i] - graphed.params[i]).abs().max().item<double>());
  // The same kernels on the same data: equal up to cuDNN's choice of algorithm per stream.
  EXPECT_LT(worst, 1e-5);
  EXPECT_TRUE(graph.captured());
}

TEST(StepGraph, AHostSyncInsideTheCaptureIsRefusedWithTheReason) {
  if (!have_gpu()) GTEST_SKIP() << "no CUDA libtorch or no device";
  torch::Device dev(torch::kCUDA, 0);
  torch::Tensor t = torch::ones({16}, torch::TensorOptions().device(dev));
  StepGraph graph;
  graph.warmup([&] { t.add_(1); });
  try {
    graph.capture([&] { (void)t.sum().item<float>(); });  // a device-to-host copy and a wait
    FAIL() << "the capture of a host synchronization succeeded";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("CUDA graph capture failed"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(graph.captured());
  t.add_(1);  // the device is usable after the failed capture
  EXPECT_EQ(t.sum().item<float>(), 16 * 3);
}

}  // namespace
}  // namespace roost::gpu
