// ring_mpi_communicator.cc — roost's allreduce over MPI: a shared window for ranks on one node
// (up to a size), else the ring over point-to-point messages.
#include "roost/comm/ring_mpi_communicator.h"

#include "reduce.h"
#include "roost/core/error.h"
#include "node_shared.h"
#include "shm_allreduce.h"

namespace roost::comm {

RingMpiCommunicator::RingMpiCommunicator(MPI_Comm comm, RingMpiOptions options)
    : MpiCommunicator(comm), options_(options) {}

RingMpiCommunicator::~RingMpiCommunicator() = default;

void RingMpiCommunicator::decide_window() {
  using Path = RingMpiOptions::Path;
  if (window_decided_) return;
  // Decided once, collectively, so every rank has (or lacks) the window for good.
  if (options_.path != Path::kMessages && size() > 1) {
    shm_ = detail::ShmAllreduce::create(comm(), options_.shm_piece_bytes);
    ROOST_CHECK(shm_ || options_.path == Path::kAuto, "the shared-memory allreduce needs every rank on one node");
  }
  window_decided_ = true;
}

bool RingMpiCommunicator::use_window(size_t bytes) const {
  return shm_ && (options_.path == RingMpiOptions::Path::kSharedMemory || bytes <= options_.shm_max_bytes);
}

void RingMpiCommunicator::allreduce(void* data, size_t count, DType type, ReduceOp op) {
  ROOST_CHECK(detail::reduction_supported(type, op), reduce_op_name(op), " of ", dtype_name(type), " is not defined");
  decide_window();
  if (use_window(count * dtype_size(type))) {
    last_path_ = "shared-memory";
    shm_->allreduce(data, count, type, op);
  } else {
    last_path_ = "messages";
    ring_allreduce(*this, data, count, type, op, options_.ring, &scratch_);
  }
}

void RingMpiCommunicator::allreduce_parts(const std::vector<Part>& parts, void* out, DType type, ReduceOp op) {
  ROOST_CHECK(detail::reduction_supported(type, op), reduce_op_name(op), " of ", dtype_name(type), " is not defined");
  decide_window();
  size_t count = 0;
  for (const Part& p : parts) count += p.count;
  if (use_window(count * dtype_size(type))) {
    last_path_ = "shared-memory";
    shm_->allreduce_parts(parts, out, type, op);
  } else {
    Communicator::allreduce_parts(parts, out, type, op);  // concatenate, then the ring
  }
}

std::shared_ptr<void> RingMpiCommunicator::map_shared(size_t bytes) {
  decide_window();
  if (!shm_ || options_.path == RingMpiOptions::Path::kMessages) return nullptr;
  return detail::map_node_shared(comm(), bytes);
}

void RingMpiCommunicator::reduce_apply(const std::vector<Part>& parts, DType type, ReduceOp op, const ApplyFn& apply) {
  ROOST_CHECK(detail::reduction_supported(type, op), reduce_op_name(op), " of ", dtype_name(type), " is not defined");
  decide_window();
  ROOST_CHECK(shm_ || size() == 1, "reduce_apply needs every rank on one node (shared memory)");
  last_path_ = "shared-memory";
  if (shm_) {
    shm_->reduce_apply(parts, type, op, apply);
    return;
  }
  for (size_t i = 0; i < parts.size(); ++i)  // one rank: its own values are the result
    if (parts[i].count) apply(i, 0, parts[i].count, parts[i].data);
}

}  // namespace roost::comm
