// ring_mpi_communicator.cc — roost's allreduce over MPI: a shared window for ranks on one node
// (up to a size), else the ring over point-to-point messages.
#include "roost/comm/ring_mpi_communicator.h"

#include "reduce.h"
#include "roost/core/error.h"
#include "shm_allreduce.h"

namespace roost::comm {

RingMpiCommunicator::RingMpiCommunicator(MPI_Comm comm, RingMpiOptions options)
    : MpiCommunicator(comm), options_(options) {}

RingMpiCommunicator::~RingMpiCommunicator() = default;

void RingMpiCommunicator::allreduce(void* data, size_t count, DType type, ReduceOp op) {
  ROOST_CHECK(detail::reduction_supported(type, op), reduce_op_name(op), " of ",
              dtype_name(type), " is not defined");
  using Path = RingMpiOptions::Path;
  if (!window_decided_) {
    // Decided once, collectively, so every rank has (or lacks) the window for good.
    if (options_.path != Path::kMessages && size() > 1) {
      shm_ = detail::ShmAllreduce::create(comm(), options_.shm_piece_bytes);
      ROOST_CHECK(shm_ || options_.path == Path::kAuto,
                  "the shared-memory allreduce needs every rank on one node");
    }
    window_decided_ = true;
  }
  const size_t bytes = count * dtype_size(type);
  if (shm_ && (options_.path == Path::kSharedMemory || bytes <= options_.shm_max_bytes)) {
    last_path_ = "shared-memory";
    shm_->allreduce(data, count, type, op);
  } else {
    last_path_ = "messages";
    ring_allreduce(*this, data, count, type, op, options_.ring, &scratch_);
  }
}

}  // namespace roost::comm
