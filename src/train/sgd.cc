// roost/train/sgd.cc — multi-tensor SGD step (torch.optim.SGD's update rule).
#include "roost/train/sgd.h"

#include "roost/core/error.h"

namespace roost::train {

Sgd::Sgd(std::vector<torch::Tensor> params, const SgdOptions& options)
    : params_(std::move(params)), buffers_(params_.size()), options_(options) {
  ROOST_CHECK(!options.nesterov || (options.momentum > 0 && options.dampening == 0),
              "Nesterov momentum needs momentum > 0 and no dampening");
}

void Sgd::zero_grad() {
  // Released, not zeroed (PyTorch's set_to_none): the next backward then hands its gradient
  // over without a pass that writes zeros and another that adds into them.
  for (auto& p : params_)
    if (p.grad().defined()) p.mutable_grad() = torch::Tensor();
}

void Sgd::step() {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> params, grads, fresh_grads, bufs;
  std::vector<size_t> fresh;  // parameters whose momentum buffer starts this step
  for (size_t i = 0; i < params_.size(); ++i) {
    if (!params_[i].grad().defined()) continue;
    params.push_back(params_[i]);
    grads.push_back(params_[i].grad());
  }
  if (params.empty()) return;
  const auto& o = options_;
  // d_p = grad + weight_decay * p (a new list: .grad stays as the synchronizer wrote it)
  std::vector<torch::Tensor> d_p =
      o.weight_decay != 0 ? at::_foreach_add(grads, params, o.weight_decay) : grads;
  if (o.momentum != 0) {
    size_t k = 0;
    for (size_t i = 0; i < params_.size(); ++i) {
      if (!params_[i].grad().defined()) continue;
      if (!buffers_[i].defined()) {
        buffers_[i] = d_p[k].clone().detach();  // torch: buf = clone(d_p) on the first step
        fresh.push_back(k);
      }
      bufs.push_back(buffers_[i]);
      ++k;
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
