// roost/model/resnet.h — torchvision's ResNet family in the libtorch C++ frontend.
//
// Module and parameter names are identical to torchvision's (conv1, bn1, layer1.0.conv1,
// layer2.0.downsample.0, …, fc), so a torchvision state dict maps one to one onto
// named_parameters()/named_buffers(). BasicBlock for 18/34, Bottleneck (stride on the 3×3,
// expansion 4) for 50/101/152. Initialization as torchvision: conv kaiming-normal
// (fan_out, relu), BatchNorm weight 1 / bias 0, optional zero-init of each block's last BN.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "roost/model/batch_norm.h"

namespace roost::model {

struct ResNetOptions {
  std::string arch = "resnet18";  // resnet18|resnet34|resnet50|resnet101|resnet152
  int64_t num_classes = 1000;
  bool zero_init_residual = false;
};

// Architectures roost knows, in the order the CLI lists them.
const std::vector<std::string>& resnet_archs();

class BasicBlockImpl : public torch::nn::Module {
 public:
  static constexpr int64_t kExpansion = 1;
  BasicBlockImpl(int64_t inplanes, int64_t planes, int64_t stride, bool downsample);
  torch::Tensor forward(torch::Tensor x);
  SyncableBatchNorm last_bn() { return bn2; }

 private:
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
  SyncableBatchNorm bn1{nullptr}, bn2{nullptr};
  torch::nn::Sequential downsample{nullptr};
};
TORCH_MODULE(BasicBlock);

class BottleneckImpl : public torch::nn::Module {
 public:
  static constexpr int64_t kExpansion = 4;
  BottleneckImpl(int64_t inplanes, int64_t planes, int64_t stride, bool downsample);
  torch::Tensor forward(torch::Tensor x);
  SyncableBatchNorm last_bn() { return bn3; }

 private:
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr}, conv3{nullptr};
  SyncableBatchNorm bn1{nullptr}, bn2{nullptr}, bn3{nullptr};
  torch::nn::Sequential downsample{nullptr};
};
TORCH_MODULE(Bottleneck);

class ResNetImpl : public torch::nn::Module {
 public:
  explicit ResNetImpl(const ResNetOptions& options);
  torch::Tensor forward(torch::Tensor x);

  const ResNetOptions& options() const { return options_; }
  int64_t feature_dim() const { return feature_dim_; }
  // Replaces fc with a freshly initialized Linear(feature_dim, num_classes).
  void reset_classifier(int64_t num_classes);

 private:
  template <typename Block>
  torch::nn::Sequential make_layer(int64_t planes, int64_t blocks, int64_t stride);
  void initialize();

  ResNetOptions options_;
  int64_t inplanes_ = 64;
  int64_t feature_dim_ = 512;
  torch::nn::Conv2d conv1{nullptr};
  SyncableBatchNorm bn1{nullptr};
  torch::nn::Sequential layer1{nullptr}, layer2{nullptr}, layer3{nullptr}, layer4{nullptr};
  torch::nn::Linear fc{nullptr};
};
TORCH_MODULE(ResNet);

// Throws UsageError for an unknown architecture name.
ResNet make_resnet(const ResNetOptions& options);

}  // namespace roost::model
