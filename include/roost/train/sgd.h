// roost/train/sgd.h — SGD with momentum, weight decay and Nesterov, as torch.optim.SGD
// computes it, applied to all parameters at once with libtorch's multi-tensor (_foreach)
// kernels: a handful of launches per step instead of several per parameter, which matters
// on a GPU for models with hundreds of parameter tensors (ResNet-50 has 161).
#pragma once

#include <torch/torch.h>

#include <vector>

namespace roost::train {

struct SgdOptions {
  double lr = 0.001;
  double momentum = 0.0;
  double dampening = 0.0;
  double weight_decay = 0.0;
  bool nesterov = false;
};

class Sgd {
 public:
  Sgd(std::vector<torch::Tensor> params, const SgdOptions& options);

  void step();       // parameters without a gradient are left alone
  void zero_grad();  // releases the gradients (.grad undefined), as set_to_none does
  void set_lr(double lr) { options_.lr = lr; }
  double lr() const { return options_.lr; }
  const SgdOptions& options() const { return options_; }
  // Momentum buffers (undefined until the first step), in parameter order.
  std::vector<torch::Tensor>& momentum_buffers() { return buffers_; }

 private:
  std::vector<torch::Tensor> params_;
  std::vector<torch::Tensor> buffers_;
  SgdOptions options_;
};

}  // namespace roost::train
