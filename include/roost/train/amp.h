// roost/train/amp.h — mixed precision for the GPU path: an autocast scope for the forward pass and a
// dynamic loss scaler for fp16. libtorch's autocast API changed in 2.4; both are handled.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

namespace roost::train {

// Enables CUDA autocast with the given dtype for its lifetime, then clears the cast cache
// (weights change at every step, so cached casts must not outlive the forward pass).
class AutocastScope {
 public:
  AutocastScope(bool enabled, torch::ScalarType dtype);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool enabled_;
};

// fp16 loss scaling as torch.cuda.amp.GradScaler: start at 2^16, halve on overflow (the
// step is skipped), double after `growth_interval` clean steps.
class LossScaler {
 public:
  explicit LossScaler(bool enabled, double initial = 65536.0, int growth_interval = 2000)
      : enabled_(enabled), scale_(enabled ? initial : 1.0), growth_interval_(growth_interval) {}
  bool enabled() const { return enabled_; }
  double scale() const { return scale_; }
  // Call after gradients were averaged; returns whether the optimizer should step.
  bool update(bool grads_finite);
  // Checkpointed state: the scale and the clean steps since it last changed.
  int clean_steps() const { return clean_steps_; }
  int growth_interval() const { return growth_interval_; }
  void restore(double scale, int clean_steps) {
    if (enabled_) scale_ = scale, clean_steps_ = clean_steps;
  }

 private:
  bool enabled_;
  double scale_;
  int growth_interval_;
  int clean_steps_ = 0;
};

// Whether every element of every defined tensor is finite, read from the device once: one
// read per tensor would make the host wait for the GPU as many times (undefined tensors,
// such as a gradient never written, are skipped).
bool all_finite(const std::vector<torch::Tensor>& tensors);

}  // namespace roost::train
