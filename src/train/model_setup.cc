// roost/train/model_setup.cc — rank 0's model state to every rank, BatchNorm statistics over
// the host communicator, and the trainable parameters (model_setup.h).
#include "roost/train/model_setup.h"

#include "roost/core/error.h"
#include "roost/model/state_dict.h"

namespace roost::train {

void broadcast_state(model::ResNet& net, comm::Communicator& comm) {
  for (auto& [name, tensor] : model::state_dict(*net)) {
    torch::NoGradGuard no_grad;
    ROOST_CHECK(tensor.is_contiguous() && tensor.device().is_cpu(), name, " must be a contiguous CPU tensor");
    comm.broadcast(tensor.data_ptr(), tensor.numel() * tensor.element_size(), 0);
  }
}

void broadcast_buffers(model::ResNet& net, comm::Communicator& comm) {
  torch::NoGradGuard no_grad;
  for (auto& buffer : net->buffers()) {
    torch::Tensor host = buffer.to(torch::kCPU).contiguous();
    comm.broadcast(host.data_ptr(), host.numel() * host.element_size(), 0);
    if (comm.rank() != 0) buffer.copy_(host);
  }
}

void HostBatchNormSync::allreduce_sum(torch::Tensor& values) {
  ROOST_CHECK(values.is_contiguous() && values.device().is_cpu() && values.scalar_type() == torch::kFloat64,
              "BatchNorm statistics must be a contiguous CPU float64 tensor");
  comm_.allreduce(values.data_ptr(), values.numel(), comm::DType::kFloat64, comm::ReduceOp::kSum);
}

NamedParameters trainable_parameters(model::ResNet& net, bool freeze_backbone) {
  NamedParameters out;
  for (auto& p : net->named_parameters()) {
    if (freeze_backbone && p.key().rfind("fc.", 0) != 0) {
      p.value().set_requires_grad(false);
      continue;
    }
    out.emplace_back(p.key(), p.value());
  }
  return out;
}

void set_train_mode(model::ResNet& net, bool freeze_backbone) {
  net->train();
  if (!freeze_backbone) return;
  for (auto& m : net->modules(/*include_self=*/false))
    if (m->as<model::SyncableBatchNormImpl>()) m->eval();
}

std::vector<torch::Tensor> values_of(const NamedParameters& named) {
  std::vector<torch::Tensor> out;
  for (const auto& [name, t] : named) out.push_back(t);
  return out;
}

}  // namespace roost::train
