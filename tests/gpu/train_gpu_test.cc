// train_gpu_test.cc — a short training run on the GPU through the real path: decoded uint8
// images preprocessed by the CUDA kernel (BatchSource), ResNet-18 on the device, SGD. On a
// tiny two-class set the loss must fall, in float32 and in bf16 autocast with channels-last.
// Skips without a CUDA device (or with a CPU-only libtorch).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <random>

#include "roost/data/loader.h"
#include "roost/kernels/preprocess.h"
#include "roost/model/resnet.h"
#include "roost/train/amp.h"
#include "roost/train/batch_source.h"

namespace roost::train {
namespace {

// Class 0: dark images with a bright left half; class 1: bright with a dark bottom band.
data::Batch make_batch(int n, int seed) {
  std::mt19937 rng(seed);
  data::Batch b;
  b.size = n;
  for (int i = 0; i < n; ++i) {
    data::Image img;
    img.height = 40 + static_cast<int>(rng() % 50);
    img.width = 40 + static_cast<int>(rng() % 50);
    img.pixels.resize(static_cast<size_t>(img.height) * img.width * 3);
    const int label = i % 2;
    for (int y = 0; y < img.height; ++y)
      for (int x = 0; x < img.width; ++x)
        for (int c = 0; c < 3; ++c) {
          int base = label == 0 ? (x < img.width / 2 ? 200 : 30) : (y > img.height * 3 / 4 ? 20 : 220);
          img.row(y)[x * 3 + c] = static_cast<uint8_t>(std::clamp(base + static_cast<int>(rng() % 40) - 20, 0, 255));
        }
    b.plans.push_back(data::val_plan(img.height, img.width, 36, 32));
    b.images.push_back(std::move(img));
    b.labels.push_back(label);
  }
  return b;
}

double train_losses(bool amp, bool channels_last, double* first) {
  torch::manual_seed(3);
  torch::Device dev(torch::kCUDA, 0);
  model::ResNetOptions mo;
  mo.num_classes = 2;
  model::ResNet net = model::make_resnet(mo);
  net->to(dev);
  if (channels_last)
    for (auto& p : net->parameters())
      if (p.dim() == 4) p.set_data(p.data().contiguous(torch::MemoryFormat::ChannelsLast));
  torch::optim::SGD opt(net->parameters(), torch::optim::SGDOptions(0.02).momentum(0.9));
  BatchSource source(dev, /*gpu_preprocess=*/true, channels_last, amp ? torch::kBFloat16 : torch::kFloat32, 32);
  data::Batch batch = make_batch(16, 11);
  double last = 0;
  net->train();
  for (int step = 0; step < 40; ++step) {
    auto [x, y] = source.to_device(batch);
    opt.zero_grad();
    torch::Tensor logits;
    {
      AutocastScope autocast(amp, torch::kBFloat16);
      logits = net->forward(x);
    }
    torch::Tensor loss = torch::cross_entropy_loss(logits.to(torch::kFloat32), y);
    loss.backward();
    opt.step();
    last = loss.item<double>();
    if (step == 0) *first = last;
    EXPECT_TRUE(std::isfinite(last)) << "step " << step;
  }
  return last;
}

TEST(GpuTraining, LossFallsOnTinySet) {
  if (!kernels::GpuPreprocessor::available() || !torch::cuda::is_available())
    GTEST_SKIP() << "no CUDA device (or libtorch without CUDA) on this machine";
  for (bool amp : {false, true}) {
    double first = 0;
    double last = train_losses(amp, /*channels_last=*/amp, &first);
    EXPECT_LT(last, 0.5 * first) << (amp ? "bf16 channels-last" : "float32") << ": " << first << " -> " << last;
  }
}

}  // namespace
}  // namespace roost::train
