// roost/train/shared_update.cc — parameters and momentum into shared memory, steps in chunks.
#include "roost/train/shared_update.h"

#include "roost/sync/shared_tensors.h"

namespace roost::train {

std::string enable_shared_update(const std::vector<torch::Tensor>& params, Sgd& optimizer,
                                 sync::GradientSynchronizer& synchronizer, comm::Communicator& comm) {
  // Every condition before map_shared is the same on every rank (one model, one config).
  if (comm.size() < 2) return "one rank";
  if (!optimizer.can_step_slices())
    return "needs float32 contiguous parameters on the host and a CPU with AVX2/FMA";
  if (!synchronizer.can_update()) return "needs one backward pass per step and float32 allreduces";
  std::vector<torch::Tensor> momentum_like;
  for (size_t i = 0; i < params.size(); ++i) {
    const torch::Tensor& b = optimizer.momentum_buffers()[i];
    momentum_like.push_back(b.defined() ? b : params[i]);  // the latter only shaped: unused until written
  }
  std::vector<torch::Tensor> shared_params = sync::node_shared_copies(params, comm);
  std::vector<torch::Tensor> shared_momentum = sync::node_shared_copies(momentum_like, comm);
  if (shared_params.empty() || shared_momentum.empty()) return "the ranks do not share memory";
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < params.size(); ++i) {
    torch::Tensor p = params[i];
    p.set_data(shared_params[i]);
  }
  optimizer.share_momentum(std::move(shared_momentum));
  synchronizer.set_update([&optimizer](const torch::Tensor& param, int64_t first, int64_t count, const float* g) {
    optimizer.step_slice(param, first, count, g);
  });
  return "";
}

}  // namespace roost::train
