// roost/train/shared_update.cc — parameters and momentum into shared memory, steps in chunks.
#include "roost/train/shared_update.h"

#include "roost/sync/shared_tensors.h"

namespace roost::train {

namespace {

// Why this rank cannot take the shared update ("" when it can).
std::string local_obstacle(const Sgd& optimizer, const sync::GradientSynchronizer& synchronizer) {
  if (std::string why = optimizer.slice_obstacle(); !why.empty()) return why;
  if (!synchronizer.can_update()) return "needs one backward pass per step and float32 allreduces";
  return "";
}

}  // namespace

std::string enable_shared_update(const std::vector<torch::Tensor>& params, Sgd& optimizer,
                                 sync::GradientSynchronizer& synchronizer, comm::Communicator& comm) {
  if (comm.size() < 2) return "one rank";
  // The ranks must agree before any of them maps memory (a collective): the CPU check can
  // differ between nodes.
  std::string why = local_obstacle(optimizer, synchronizer);
  int64_t unable = why.empty() ? 0 : 1;
  comm.allreduce(&unable, 1, comm::DType::kInt64, comm::ReduceOp::kSum);
  if (unable > 0) return why.empty() ? std::to_string(unable) + " other rank(s) cannot take it" : why;

  const bool momentum = optimizer.options().momentum != 0;
  std::vector<torch::Tensor> momentum_like;
  for (size_t i = 0; momentum && i < params.size(); ++i) {
    const torch::Tensor& b = optimizer.momentum_buffers()[i];
    momentum_like.push_back(b.defined() ? b : params[i]);  // the latter only shaped: unused until written
  }
  std::vector<torch::Tensor> shared_params = sync::node_shared_copies(params, comm);
  if (shared_params.empty())
    return "the ranks do not share memory (several nodes without the hierarchical allreduce, or no room in /dev/shm)";
  std::vector<torch::Tensor> shared_momentum;
  if (momentum) {
    shared_momentum = sync::node_shared_copies(momentum_like, comm);
    if (shared_momentum.empty()) return "no room in /dev/shm for the momentum buffers";
  }
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < params.size(); ++i) {
    torch::Tensor p = params[i];
    p.set_data(shared_params[i]);
  }
  if (momentum) optimizer.share_momentum(std::move(shared_momentum));
  synchronizer.set_update([&optimizer](const torch::Tensor& param, int64_t first, int64_t count, const float* g) {
    optimizer.step_slice(param, first, count, g);
  });
  return "";
}

}  // namespace roost::train
