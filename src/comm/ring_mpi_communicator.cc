// ring_mpi_communicator.cc — roost's allreduce over MPI: shared window on one node, else the
// ring over point-to-point messages.
#include "roost/comm/ring_mpi_communicator.h"

#include "reduce.h"
#include "roost/core/error.h"
#include "shm_allreduce.h"

namespace roost::comm {

RingMpiCommunicator::RingMpiCommunicator(MPI_Comm comm, RingMpiOptions options)
    : MpiCommunicator(comm), options_(options) {}

RingMpiCommunicator::~RingMpiCommunicator() = default;

const char* RingMpiCommunicator::path() const {
  if (!decided_) return "undecided";
  return shm_ ? "shared-memory" : "messages";
}

void RingMpiCommunicator::allreduce(void* data, size_t count, DType type, ReduceOp op) {
  ROOST_CHECK(detail::reduction_supported(type, op), reduce_op_name(op), " of ",
              dtype_name(type), " is not defined");
  if (!decided_) {
    // Decided once, collectively, so every rank takes the same path for the communicator's life.
    using Path = RingMpiOptions::Path;
    if (options_.path != Path::kMessages && size() > 1) {
      shm_ = detail::ShmAllreduce::create(comm(), options_.shm_piece_bytes);
      ROOST_CHECK(shm_ || options_.path == Path::kAuto,
                  "the shared-memory allreduce needs every rank on one node");
    }
    decided_ = true;
  }
  if (shm_) shm_->allreduce(data, count, type, op);
  else ring_allreduce(*this, data, count, type, op, options_.ring, &scratch_);
}

}  // namespace roost::comm
