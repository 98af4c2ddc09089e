// roost/model/folded_resnet.h — a trained ResNet prepared for inference only (roost predict,
// roost serve). Every BatchNorm is folded into the convolution before it, with the running
// statistics, in float64:  w' = w·γ/√(σ²+ε),  b' = β − μ·γ/√(σ²+ε);  so a block is conv+bias,
// ReLU, conv+bias, add, ReLU, and the outputs differ from the module's eval-mode forward only
// by float rounding. Where libtorch has oneDNN (mkldnn) the activations stay in oneDNN's
// blocked layout from the first convolution to the pooling, and the weights are reordered
// into that layout once, here, rather than on every pass (torch.utils.mkldnn does the same in
// Python); elsewhere the folded convolutions run on ordinary dense tensors.
//
// The weights are copies: the module can be changed or freed afterwards. forward() only reads,
// so several threads may run it at once.
#pragma once

#include <torch/torch.h>

#include <vector>

#include "roost/model/resnet.h"

namespace roost::model {

class FoldedResNet {
 public:
  enum class Backend { Auto, Dense, Mkldnn };  // Auto: Mkldnn where libtorch has it
  FoldedResNet(ResNetImpl& net, Backend backend = Backend::Auto);

  // Logits [N, classes] (float32) of x [N, 3, H, W] (float32, dense). No autograd.
  torch::Tensor forward(const torch::Tensor& x) const;
  bool uses_mkldnn() const { return mkldnn_; }

 private:
  struct Conv {
    torch::Tensor weight, bias;
    std::vector<int64_t> stride, padding;
  };
  struct Block {
    std::vector<Conv> convs;  // ReLU after each but the last, whose output joins the shortcut
    bool has_downsample = false;
    Conv downsample;
  };
  Conv fold(torch::nn::Conv2dImpl& conv, SyncableBatchNormImpl& bn) const;
  torch::Tensor run(const Conv& conv, const torch::Tensor& x) const;

  bool mkldnn_ = false;
  Conv stem_;
  std::vector<Block> blocks_;
  torch::Tensor fc_weight_, fc_bias_;
};

}  // namespace roost::model
