// roost/sync/shared_tensors.h — tensors in memory that every rank on one node maps, so that
// an update one rank writes is the update of all (Communicator::map_shared).
#pragma once

#include <torch/torch.h>

#include <vector>

#include "roost/comm/communicator.h"

namespace roost::sync {

// New contiguous tensors shaped and typed like `like` (host tensors), in one block that every
// rank of `comm` maps, holding rank 0's values of `like`. Collective; empty on every rank
// where `comm` cannot share memory. Each tensor keeps the block mapped while it lives.
std::vector<torch::Tensor> node_shared_copies(const std::vector<torch::Tensor>& like, comm::Communicator& comm);

}  // namespace roost::sync
