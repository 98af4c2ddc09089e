// roost/train/sgd.cc — SGD step (torch.optim.SGD's update rule): float32 host parameters in
// one fused pass each (sgd_kernel.h), CUDA parameters in one fused launch (sgd_device.cc), the
// rest with libtorch's multi-tensor kernels.
#include "roost/train/sgd.h"

#include <ATen/Parallel.h>

#include "roost/core/error.h"
#include "sgd_device.h"
#include "sgd_kernel.h"

namespace roost::train {

Sgd::Sgd(std::vector<torch::Tensor> params, const SgdOptions& options)
    : params_(std::move(params)), buffers_(params_.size()), options_(options) {
  ROOST_CHECK(!options.nesterov || (options.momentum > 0 && options.dampening == 0),
              "Nesterov momentum needs momentum > 0 and no dampening");
  for (size_t i = 0; i < params_.size(); ++i) index_.emplace(params_[i].unsafeGetTensorImpl(), i);
}

Sgd::~Sgd() = default;
Sgd::Sgd(Sgd&&) noexcept = default;
Sgd& Sgd::operator=(Sgd&&) noexcept = default;

void Sgd::zero_grad() {
  // Released, not zeroed (PyTorch's set_to_none): the next backward then hands its gradient
  // over without a pass that writes zeros and another that adds into them.
  for (auto& p : params_)
    if (p.grad().defined()) p.mutable_grad() = torch::Tensor();
}

namespace {

// float32 on the host, dense in any memory format, with gradient and momentum buffer laid
// out alike: the fused loop treats all three as one flat array each.
bool fusable(const torch::Tensor& p, const torch::Tensor& g, const torch::Tensor& buf) {
  auto like_p = [&](const torch::Tensor& t) {
    return t.device().is_cpu() && t.scalar_type() == torch::kFloat32 && t.sizes() == p.sizes() &&
           t.strides() == p.strides();
  };
  return p.device().is_cpu() && p.scalar_type() == torch::kFloat32 && p.is_non_overlapping_and_dense() && like_p(g) &&
         (!buf.defined() || like_p(buf)) && detail::fused_sgd_available();
}

// As libtorch turns the options into the float kernel's scalars.
detail::SgdCoefficients coefficients(const SgdOptions& o) {
  return {static_cast<float>(o.lr), static_cast<float>(o.momentum), static_cast<float>(1.0 - o.dampening),
          static_cast<float>(o.weight_decay), o.nesterov};
}

}  // namespace

std::vector<size_t> Sgd::with_gradients() const {
  std::vector<size_t> all;
  for (size_t i = 0; i < params_.size(); ++i)
    if (params_[i].grad().defined()) all.push_back(i);
  return all;
}

void Sgd::step() { step_indices(with_gradients()); }

void Sgd::step(const std::vector<torch::Tensor>& subset) {
  std::vector<size_t> which;
  for (const torch::Tensor& t : subset) {
    auto it = index_.find(t.unsafeGetTensorImpl());
    ROOST_CHECK(it != index_.end(), "Sgd::step: a tensor that is not one of the optimizer's parameters");
    if (params_[it->second].grad().defined()) which.push_back(it->second);
  }
  step_indices(which);
}

void Sgd::step_indices(const std::vector<size_t>& which) {
  torch::NoGradGuard no_grad;
  if (step_on_gpu(which)) return;
  const auto& o = options_;
  const detail::SgdCoefficients c = coefficients(o);
  std::vector<size_t> rest;  // parameters for libtorch's kernels
  for (size_t i : which) {
    const torch::Tensor& g = params_[i].grad();
    if (!fusable(params_[i], g, buffers_[i])) {
      rest.push_back(i);
      continue;
    }
    const bool first = o.momentum != 0 && !buffers_[i].defined();
    if (first) buffers_[i] = torch::empty_like(params_[i]);  // written with d_p by the loop
    float* p = params_[i].data_ptr<float>();
    const float* gp = g.data_ptr<float>();
    float* buf = o.momentum != 0 ? buffers_[i].data_ptr<float>() : nullptr;
    at::parallel_for(0, params_[i].numel(), int64_t{1} << 16, [&](int64_t begin, int64_t end) {
      detail::fused_sgd(p + begin, gp + begin, buf ? buf + begin : nullptr, end - begin, first, c);
    });
  }
  if (!rest.empty()) step_with_libtorch(rest);
}

std::string Sgd::slice_obstacle() const {
  for (const auto& p : params_)
    if (!p.device().is_cpu() || p.scalar_type() != torch::kFloat32 || !p.is_contiguous())
      return "the parameters are not contiguous float32 host tensors (--channels-last, a GPU, another type)";
  return detail::fused_sgd_available() ? "" : "this CPU lacks AVX2/FMA for the fused step";
}

void Sgd::share_momentum(std::vector<torch::Tensor> shared) {
  ROOST_CHECK(shared.size() == params_.size(), "share_momentum: one buffer per parameter");
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < params_.size(); ++i) {
    ROOST_CHECK(shared[i].sizes() == params_[i].sizes() && shared[i].is_contiguous(),
                "share_momentum: buffers shaped like the parameters");
    if (buffers_[i].defined()) buffers_[i] = shared[i];  // already holds the buffer's values
  }
  shared_ = std::move(shared);
}

void Sgd::step_slice(const torch::Tensor& param, int64_t first, int64_t count, const float* grad) {
  auto it = index_.find(param.unsafeGetTensorImpl());
  ROOST_CHECK(it != index_.end(), "Sgd::step_slice: a tensor that is not one of the optimizer's parameters");
  const size_t i = it->second;
  const auto& o = options_;
  ROOST_CHECK(o.momentum == 0 || i < shared_.size(), "Sgd::step_slice needs share_momentum first");
  ROOST_CHECK(first >= 0 && first + count <= params_[i].numel(), "Sgd::step_slice: elements out of range");
  float* buf = o.momentum != 0 ? shared_[i].data_ptr<float>() + first : nullptr;
  detail::fused_sgd(params_[i].data_ptr<float>() + first, grad, buf, count, o.momentum != 0 && !buffers_[i].defined(),
                    coefficients(o));
}

void Sgd::end_sliced_step() {
  if (options_.momentum == 0) return;
  for (size_t i = 0; i < params_.size(); ++i)
    if (!buffers_[i].defined()) buffers_[i] = shared_[i];
}

void Sgd::step_with_libtorch(const std::vector<size_t>& which) {
  std::vector<torch::Tensor> params, grads, bufs;
  std::vector<size_t> fresh;  // parameters whose momentum buffer starts this step
  for (size_t i : which) {
    params.push_back(params_[i]);
    grads.push_back(params_[i].grad());
  }
  const auto& o = options_;
  // d_p = grad + weight_decay * p (a new list: .grad stays as the synchronizer wrote it)
  std::vector<torch::Tensor> d_p = o.weight_decay != 0 ? at::_foreach_add(grads, params, o.weight_decay) : grads;
  if (o.momentum != 0) {
    for (size_t k = 0; k < which.size(); ++k) {
      torch::Tensor& buffer = buffers_[which[k]];
      if (!buffer.defined()) {
        buffer = d_p[k].clone().detach();  // torch: buf = clone(d_p) on the first step
        fresh.push_back(k);
      }
      bufs.push_back(buffer);
    }
    if (fresh.size() < bufs.size()) {
      // buf = momentum * buf + (1 - dampening) * d_p, for buffers that existed already
      std::vector<torch::Tensor> old_bufs, old_dp;
      size_t f = 0;
      for (size_t j = 0; j < bufs.size(); ++j) {
        if (f < fresh.size() && fresh[f] == j) {
          ++f;
          continue;
        }
        old_bufs.push_back(bufs[j]);
        old_dp.push_back(d_p[j]);
      }
      at::_foreach_mul_(old_bufs, o.momentum);
      at::_foreach_add_(old_bufs, old_dp, 1.0 - o.dampening);
    }
    d_p = o.nesterov ? at::_foreach_add(d_p, bufs, o.momentum) : bufs;
  }
  at::_foreach_add_(params, d_p, -o.lr);
}

}  // namespace roost::train
