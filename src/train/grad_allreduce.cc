// grad_allreduce.cc — one flat buffer per step, reduced with the process's communicator.
#include "grad_allreduce.h"

#include <chrono>

#include "roost/core/error.h"

namespace roost::train {

GradAllreduce::GradAllreduce(std::vector<torch::Tensor> params, comm::Communicator& host_comm,
                             comm::Communicator* device_comm)
    : params_(std::move(params)), host_comm_(host_comm), device_comm_(device_comm) {}

bool GradAllreduce::average(bool check_finite) {
  auto start = std::chrono::steady_clock::now();
  std::vector<torch::Tensor> flat;
  flat.reserve(params_.size());
  for (auto& p : params_) {
    if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
    flat.push_back(p.grad().reshape({-1}).to(torch::kFloat32));
  }
  torch::Tensor buffer = torch::cat(flat);
  const size_t count = static_cast<size_t>(buffer.numel());
  if (buffer.is_cuda() && device_comm_) {
    device_comm_->allreduce(buffer.data_ptr(), count, comm::DType::kFloat32, comm::ReduceOp::kAverage);
  } else {
    torch::Tensor host = buffer.is_cuda() ? buffer.to(torch::kCPU) : buffer;
    host_comm_.allreduce(host.data_ptr(), count, comm::DType::kFloat32, comm::ReduceOp::kAverage);
    if (buffer.is_cuda()) buffer.copy_(host);
  }
  bool finite = true;
  if (check_finite) finite = torch::isfinite(buffer).all().item<bool>();
  int64_t offset = 0;
  for (auto& p : params_) {
    int64_t n = p.numel();
    p.mutable_grad().copy_(buffer.narrow(0, offset, n).view_as(p.grad()));
    offset += n;
  }
  seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return finite;
}

}  // namespace roost::train
