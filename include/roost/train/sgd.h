// roost/train/sgd.h — SGD with momentum, weight decay and Nesterov, as torch.optim.SGD
// computes it. float32 parameters on the host are updated in one fused pass over memory each
// (five arrays' traffic per element instead of libtorch's eight), bitwise torch's result.
// Dense CUDA parameters (float32, bfloat16 or float16, float32 momentum) are stepped by one
// fused multi-tensor kernel launch (roost/kernels/fused_sgd.h) where roost has CUDA; the
// rest with libtorch's multi-tensor (_foreach) kernels.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace roost::kernels {
class FusedSgdPlan;
}

namespace roost::train {

namespace detail {
struct DeviceSgd;  // the fused GPU step's plans and device learning rate (sgd_device.cc)
}

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
  ~Sgd();
  Sgd(Sgd&&) noexcept;
  Sgd& operator=(Sgd&&) noexcept;

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

  // The fused GPU step, for a step captured in a CUDA graph. Why it cannot run for the
  // parameters that have gradients now ("" when it can): every one must be a dense CUDA
  // tensor of float32, bfloat16 or float16 on one device, its gradient alike (or float32),
  // its momentum buffer float32, and roost built with CUDA.
  std::string device_step_obstacle() const;
  // Zero float32 momentum buffers for the parameters that have none, so that a captured step
  // never takes torch's first-step branch (buf = d_p): without dampening, a zero buffer gives
  // the same values; with dampening, (1 - dampening) * d_p as a resumed zero buffer would.
  void preallocate_momentum();
  // Builds the device tables for the current gradients, uploaded on torch's current stream:
  // call it before capturing, then synchronize if the capture runs on another stream. The
  // tables of this and of step_on_device stay for the optimizer's life (a graph replays them).
  void prepare_device_step();
  // One fused step of every parameter with a gradient, on torch's current stream, reading
  // the learning rate and, where given, inv_scale (gradients are multiplied by it first) and
  // found_inf (non-zero: nothing changes) from device memory. Never waits for the device.
  // With momentum, the buffers must exist (preallocate_momentum or an earlier step).
  void step_on_device(const float* lr, const float* inv_scale = nullptr, const float* found_inf = nullptr);
  // *found_inf = 1.0f where a gradient holds an infinity or NaN, else 0 (on the same stream).
  void find_non_finite_on_device(float* found_inf);

 private:
  void step_indices(const std::vector<size_t>& which);        // parameters with a gradient
  void step_with_libtorch(const std::vector<size_t>& which);  // GPU and non-float32 parameters
  bool step_on_gpu(const std::vector<size_t>& which);         // the fused kernel, where it applies
  std::vector<size_t> with_gradients() const;
  std::vector<size_t> device_step_parameters() const;  // with_gradients(), checked for the fused GPU step
  const kernels::FusedSgdPlan& device_plan(const std::vector<size_t>& which, void* stream);

  std::vector<torch::Tensor> params_;
  std::vector<torch::Tensor> buffers_;
  std::vector<torch::Tensor> shared_;                         // share_momentum's buffers; become buffers_ when started
  std::unordered_map<const c10::TensorImpl*, size_t> index_;  // parameter -> position
  SgdOptions options_;
  std::unique_ptr<detail::DeviceSgd> device_;  // created by the first fused GPU step
};

}  // namespace roost::train
