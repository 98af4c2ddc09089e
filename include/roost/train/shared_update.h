// roost/train/shared_update.h — one SGD step for all the ranks of a node, shared out.
//
// Data-parallel ranks hold identical parameters and, after the allreduce, apply identical
// updates: on one node every rank reading every other rank's share of the averaged gradients
// and updating all the parameters does the same work once per rank. With the shared update
// the parameters and momentum buffers live in memory every rank of the node maps; each rank
// sums its chunks of each fused gradient group and steps just those elements in place, and
// no rank copies the averaged gradients of the others. Per rank and step that moves about
// four passes over the model's size in memory instead of nine (publish, sum, step a share;
// versus publish, sum, publish the sum, collect, then a whole step).
//
// A group is stepped as soon as every rank has its gradients, while backward goes on: so a
// parameter must not be read by backward after its gradient is produced. That holds for
// roost's ResNets (each convolution, BatchNorm and linear layer computes its input's and its
// weight's gradients in one autograd node, and a parameter used twice gets its gradient only
// after both uses); a model that reads a parameter through a path outside autograd would
// see the new values.
#pragma once

#include <string>
#include <vector>

#include <torch/torch.h>

#include "roost/comm/communicator.h"
#include "roost/sync/grad_sync.h"
#include "roost/train/sgd.h"

namespace roost::train {

// Collective over `comm` (the synchronizer's reduction communicator). Moves `params` (the
// optimizer's, in its order; rank 0's values) and the momentum buffers into memory every
// rank maps and has the synchronizer step each rank's chunks with `optimizer`. Returns ""
// when on, else why not (then nothing changed): one rank, parameters not float32 contiguous
// host tensors, a CPU without the fused step, gradient accumulation or float16 allreduces,
// ranks that do not share memory.
std::string enable_shared_update(const std::vector<torch::Tensor>& params, Sgd& optimizer,
                                 sync::GradientSynchronizer& synchronizer, comm::Communicator& comm);

}  // namespace roost::train
