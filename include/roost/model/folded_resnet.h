// roost/model/folded_resnet.h — a trained ResNet prepared for inference only (roost predict,
// roost serve). Every BatchNorm is folded into the convolution before it, with the running
// statistics, in float64:  w' = w·γ/√(σ²+ε),  b' = β − μ·γ/√(σ²+ε);  so a block is conv+bias,
// ReLU, conv+bias, add, ReLU, and the outputs differ from the module's eval-mode forward only
// by float rounding. Where libtorch has oneDNN (mkldnn) the activations stay in oneDNN's
// blocked layout from the first convolution to the pooling, and the weights are reordered
// into that layout once, here, rather than on every pass (torch.utils.mkldnn does the same in
// Python); elsewhere the folded convolutions run on ordinary dense tensors. Built with oneDNN's
// own headers (libdnnl-dev), the Onednn backend calls oneDNN directly: Winograd for the 3x3
// stride-1 convolutions and ReLU and shortcut fused into the convolutions (onednn_resnet.h).
//
// The weights are copies: the module can be changed or freed afterwards. forward() only reads,
// so several threads may run it at once.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <vector>

#include "roost/model/resnet.h"

namespace roost::model {

namespace onednn {
class Network;
}

class FoldedResNet {
 public:
  // Auto: Onednn where roost was built with it, else Mkldnn where libtorch has it, else Dense.
  enum class Backend { Auto, Dense, Mkldnn, Onednn };
  FoldedResNet(ResNetImpl& net, Backend backend = Backend::Auto);
  ~FoldedResNet();
  FoldedResNet(const FoldedResNet&) = delete;
  FoldedResNet& operator=(const FoldedResNet&) = delete;
  static bool has_onednn();

  // Logits [N, classes] (float32) of x [N, 3, H, W] (float32, dense). No autograd.
  torch::Tensor forward(const torch::Tensor& x) const;
  Backend backend() const { return backend_; }

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
  static Conv fold(torch::nn::Conv2dImpl& conv, SyncableBatchNormImpl& bn);
  void to_mkldnn(Conv& c) const;
  void make_onednn();
  torch::Tensor run(const Conv& conv, const torch::Tensor& x) const;

  Backend backend_ = Backend::Dense;
  bool mkldnn_ = false;
  std::unique_ptr<onednn::Network> onednn_;
  Conv stem_;
  std::vector<Block> blocks_;
  torch::Tensor fc_weight_, fc_bias_;
};

}  // namespace roost::model
