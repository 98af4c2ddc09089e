// roost/train/sgd.h — SGD with momentum, weight decay and Nesterov, as torch.optim.SGD
// computes it, bitwise. float32 parameters on the host are updated in one fused pass over
// memory each (five arrays' traffic per element instead of libtorch's eight); the others (on
// a GPU) with libtorch's multi-tensor (_foreach) kernels: a handful of launches per step
// instead of several per parameter, which matters for ResNet-50's 161 parameter tensors.
#pragma once

#include <torch/torch.h>

#include <string>
#include <unordered_map>
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

  void step();  // parameters without a gradient are left alone
  // Only these parameters (each one of this optimizer's), e.g. as their averaged gradients
  // arrive; stepping every parameter once this way equals one step(), bitwise.
  void step(const std::vector<torch::Tensor>& subset);
  void zero_grad();  // releases the gradients (.grad undefined), as set_to_none does
  void set_lr(double lr) { options_.lr = lr; }
  double lr() const { return options_.lr; }
  const SgdOptions& options() const { return options_; }
  // Momentum buffers (undefined until the first step), in parameter order.
  std::vector<torch::Tensor>& momentum_buffers() { return buffers_; }

  // Stepping in slices, for the synchronizer's shared update (each rank steps its chunks of
  // parameters that every rank maps). Why this optimizer cannot ("" when it can): it needs
  // float32 host parameters, contiguous, and a CPU with the fused loop.
  std::string slice_obstacle() const;
  // From now on the momentum buffers live in `shared` (like the parameters, in memory every
  // rank maps; node_shared_copies of the buffers where they exist).
  void share_momentum(std::vector<torch::Tensor> shared);
  // Elements [first, first + count) of `param`'s step, with these averaged gradients; the
  // step of every element of every parameter in slices equals one step(), bitwise. Safe to
  // call from another thread while this one waits; set_lr() before the step's backward.
  void step_slice(const torch::Tensor& param, int64_t first, int64_t count, const float* grad);
  // After a step taken in slices, on every rank (all of it, by this rank or others).
  void end_sliced_step();

 private:
  void step_indices(const std::vector<size_t>& which);        // parameters with a gradient
  void step_with_libtorch(const std::vector<size_t>& which);  // GPU and non-float32 parameters

  std::vector<torch::Tensor> params_;
  std::vector<torch::Tensor> buffers_;
  std::vector<torch::Tensor> shared_;                         // share_momentum's buffers; become buffers_ when started
  std::unordered_map<const c10::TensorImpl*, size_t> index_;  // parameter -> position
  SgdOptions options_;
};

}  // namespace roost::train
