// amp.cc — autocast scope and loss scaler.
#include "roost/train/amp.h"

#include <ATen/autocast_mode.h>
#include <torch/version.h>

namespace roost::train {

AutocastScope::AutocastScope(bool enabled, torch::ScalarType dtype) : enabled_(enabled) {
  if (!enabled_) return;
#if TORCH_VERSION_MAJOR >= 2 && (TORCH_VERSION_MAJOR > 2 || TORCH_VERSION_MINOR >= 4)
  at::autocast::set_autocast_dtype(at::kCUDA, dtype);
  at::autocast::set_autocast_enabled(at::kCUDA, true);
#else
  at::autocast::set_autocast_gpu_dtype(dtype);
  at::autocast::set_enabled(true);
#endif
}

AutocastScope::~AutocastScope() {
  if (!enabled_) return;
#if TORCH_VERSION_MAJOR >= 2 && (TORCH_VERSION_MAJOR > 2 || TORCH_VERSION_MINOR >= 4)
  at::autocast::set_autocast_enabled(at::kCUDA, false);
#else
  at::autocast::set_enabled(false);
#endif
  at::autocast::clear_cache();
}

bool LossScaler::update(bool grads_finite) {
  if (!enabled_) return true;
  if (!grads_finite) {
    scale_ /= 2;
    clean_steps_ = 0;
    return false;
  }
  if (++clean_steps_ >= growth_interval_) {
    scale_ *= 2;
    clean_steps_ = 0;
  }
  return true;
}

bool all_finite(const std::vector<torch::Tensor>& tensors) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> flags;
  flags.reserve(tensors.size());
  for (const torch::Tensor& t : tensors)
    if (t.defined()) flags.push_back(torch::isfinite(t).all());
  return flags.empty() || torch::stack(flags).all().item<bool>();
}

}  // namespace roost::train
