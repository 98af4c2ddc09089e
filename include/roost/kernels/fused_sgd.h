// roost/kernels/fused_sgd.h — CUDA-free host API of the fused multi-tensor SGD step and the
// device-side loss-scaling kernels.
//
// A FusedSgdPlan is built once from a list of parameters (float32, bfloat16 or float16 on one
// device), their gradients (the parameter's type or float32) and float32 momentum buffers: it
// uploads a pointer table and a chunk table to device memory. Each step() is then one kernel
// launch that passes only the plan's device pointers and scalars, with the learning rate read
// from a device float, so the launch can be captured in a CUDA graph and replayed with the lr
// the host wrote before each replay. The per-element math is kernels/fused_sgd_math.h
// (torch.optim.SGD's rule, float32 arithmetic, one rounding to the parameter's type).
//
// Without CUDA (or without a device) available() is false and building a plan throws.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

namespace roost::kernels {

enum class SgdType : uint8_t { kFloat32, kBFloat16, kFloat16 };

// One parameter: `numel` elements of `param`, `grad` and `momentum` laid out alike (dense,
// the same strides). `momentum` may be null when the step has no momentum; `first` = the
// buffer starts at this step (torch's buf = d_p), so its old contents are not read.
struct SgdTensor {
  void* param = nullptr;
  const void* grad = nullptr;
  float* momentum = nullptr;
  int64_t numel = 0;
  SgdType param_type = SgdType::kFloat32;
  SgdType grad_type = SgdType::kFloat32;  // the parameter's type or kFloat32
  bool first = false;
};

// Host scalars of a step (baked into a captured launch), turned into the kernel's floats as
// libtorch turns its double arguments (keep = float(1 - dampening)).
struct SgdHyper {
  double momentum = 0, dampening = 0, weight_decay = 0;
  bool nesterov = false;
};

// Device pointers a step reads (each a single float in device memory). `lr` is required;
// `inv_scale` (gradients are multiplied by it first) and `found_inf` (when it holds a
// non-zero value, the step changes nothing) may be null.
struct SgdDeviceScalars {
  const float* lr = nullptr;
  const float* inv_scale = nullptr;
  const float* found_inf = nullptr;
};

// True when roost was built with CUDA and a device is present.
bool fused_sgd_available();

class FusedSgdPlan {
 public:
  // Uploads the tables on `stream` (a cudaStream_t; nullptr = the default stream) for the
  // current device; the upload is ordered before launches on that stream.
  // Not while the stream is being captured (that is what the plan is built beforehand for).
  // The tables are freed after the plan's latest launch on its stream: destroy the plan
  // before that stream, and only once no graph that captured it runs or will run again.
  FusedSgdPlan(const std::vector<SgdTensor>& tensors, void* stream);
  ~FusedSgdPlan();
  FusedSgdPlan(const FusedSgdPlan&) = delete;
  FusedSgdPlan& operator=(const FusedSgdPlan&) = delete;

  size_t tensors() const;
  size_t chunks() const;
  // One launch on `stream`: every parameter's step. Allocates nothing and never waits.
  void step(const SgdHyper& hyper, const SgdDeviceScalars& scalars, void* stream) const;
  // Zeroes *found_inf, then sets it to 1.0f where any gradient holds an infinity or NaN
  // (a memset and one launch on `stream`).
  void find_non_finite(float* found_inf, void* stream) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// torch's _amp_update_scale_ as one thread on `stream`: with *found_inf != 0 the scale is
// multiplied by `backoff` and *growth_tracker reset; otherwise *growth_tracker counts the
// clean step and, at `growth_interval` clean steps, the scale is multiplied by `growth` (when
// the product is finite) and the count restarts. Then *inv_scale = 1 / scale, for the next
// step's unscaling. Defaults as roost::train::LossScaler (GradScaler's).
void update_loss_scale(float* scale, int32_t* growth_tracker, float* inv_scale, const float* found_inf,
                       int32_t growth_interval, void* stream, float growth = 2.0f, float backoff = 0.5f);

}  // namespace roost::kernels
