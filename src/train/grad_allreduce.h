// grad_allreduce.h — averages gradients across ranks with one fused allreduce per step.
// Gradients are packed into one flat buffer (zeros for parameters without a gradient),
// reduced, averaged and unpacked. Device buffers go through NCCL when there is one, else
// through host memory and MPI.
#pragma once

#include <torch/torch.h>

#include <vector>

#include "roost/comm/communicator.h"

namespace roost::train {

class GradAllreduce {
 public:
  // `device_comm` may be null; then device tensors are staged through host memory.
  GradAllreduce(std::vector<torch::Tensor> params, comm::Communicator& host_comm,
                comm::Communicator* device_comm);

  // Averages the gradients in place. Returns false if any averaged value is not finite
  // (fp16 loss scaling skips the step then); every rank returns the same answer.
  bool average(bool check_finite);
  double seconds() const { return seconds_; }  // time spent, accumulated
  void reset_timer() { seconds_ = 0; }

 private:
  std::vector<torch::Tensor> params_;
  comm::Communicator& host_comm_;
  comm::Communicator* device_comm_;
  double seconds_ = 0;
};

}  // namespace roost::train
