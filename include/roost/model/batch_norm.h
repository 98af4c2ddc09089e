// roost/model/batch_norm.h — the BatchNorm2d of roost's ResNets: torch's BatchNorm2d (same
// parameters and buffers, registered in the same order under the same names, same
// computation through torch::batch_norm) that can also compute its training-mode statistics
// over the global batch of all ranks, as torch.nn.SyncBatchNorm does. (It is a Module of its
// own rather than a subclass of torch::nn::BatchNorm2dImpl, whose base class libtorch does
// not export.)
//
// With a BatchNormSync attached, a training-mode forward sums each channel's count, sum and
// sum of squares over the ranks (one allreduce of 2C+1 doubles), normalizes with the global
// mean and biased variance, and updates the running statistics with the unbiased global
// variance; backward sums Σdy and Σdy·(x−mean) over the ranks the same way, so the input
// gradients are those of the global batch. Eval mode, or no sync attached, is plain BatchNorm.
#pragma once

#include <torch/torch.h>

namespace roost::model {

// How BatchNorm reaches the other ranks: an in-place sum of a CPU float64 tensor.
class BatchNormSync {
 public:
  virtual ~BatchNormSync() = default;
  virtual void allreduce_sum(torch::Tensor& values) = 0;
};

class SyncableBatchNormImpl : public torch::nn::Cloneable<SyncableBatchNormImpl> {
 public:
  explicit SyncableBatchNormImpl(const torch::nn::BatchNorm2dOptions& options);
  void reset() override;
  void pretty_print(std::ostream& stream) const override;
  torch::Tensor forward(const torch::Tensor& input);
  void set_sync(BatchNormSync* sync) { sync_ = sync; }

  torch::nn::BatchNorm2dOptions options;
  torch::Tensor weight, bias, running_mean, running_var, num_batches_tracked;

 private:
  BatchNormSync* sync_ = nullptr;
};
TORCH_MODULE(SyncableBatchNorm);

// Attaches `sync` (nullptr detaches) to every SyncableBatchNorm inside `module`.
void set_batch_norm_sync(torch::nn::Module& module, BatchNormSync* sync);

}  // namespace roost::model
