// roost/train/model_setup.h — the model's side of a data-parallel start: every rank takes
// rank 0's state, BatchNorm statistics travel over the host communicator, and what
// --freeze-backbone leaves trainable.
#pragma once

#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

#include "roost/comm/communicator.h"
#include "roost/model/batch_norm.h"
#include "roost/model/resnet.h"

namespace roost::train {

using NamedParameters = std::vector<std::pair<std::string, torch::Tensor>>;

// Makes every rank start from rank 0's parameters and buffers.
void broadcast_state(model::ResNet& net, comm::Communicator& comm);

// BatchNorm running statistics drift apart on ranks that see different batches; like DDP's
// broadcast_buffers, every rank takes rank 0's before evaluating, so the validation metrics
// are those of the weights rank 0 saves (and a resumed run evaluates exactly the same).
void broadcast_buffers(model::ResNet& net, comm::Communicator& comm);

// SyncBatchNorm's statistics travel over the host communicator (small: 2C+1 doubles).
class HostBatchNormSync : public model::BatchNormSync {
 public:
  explicit HostBatchNormSync(comm::Communicator& comm) : comm_(comm) {}
  void allreduce_sum(torch::Tensor& values) override;

 private:
  comm::Communicator& comm_;
};

// --freeze-backbone: only fc trains; returns the parameters the optimizer updates.
NamedParameters trainable_parameters(model::ResNet& net, bool freeze_backbone);

// Train mode, except that frozen BatchNorms keep using (and keeping) their running statistics.
void set_train_mode(model::ResNet& net, bool freeze_backbone);

std::vector<torch::Tensor> values_of(const NamedParameters& named);

}  // namespace roost::train
