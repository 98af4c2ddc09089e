// roost/comm/ring_mpi_communicator.h — MPI transport, roost's own allreduce.
//
// MpiCommunicator::allreduce hands the whole operation to MPI_Allreduce; this subclass runs
// roost's reduction instead, which also covers float16 and bfloat16 (MPI has no such types)
// with the same rounding as every other backend:
//   - messages: ring_allreduce over MPI point-to-point (any placement of ranks);
//   - shared memory: when every rank is on one node, the chunks are summed straight out of
//     the peers' memory through an MPI-3 shared window (see src/comm/shm_allreduce.h).
// Either way each chunk is summed by one owner and copied, so all ranks end bitwise
// identical. Broadcast, allgather and barrier stay MPI's.
#pragma once

#include <memory>

#include "roost/comm/mpi_communicator.h"
#include "roost/comm/ring.h"

namespace roost::comm {

namespace detail {
class ShmAllreduce;
}

struct RingMpiOptions {
  enum class Path {
    kAuto,          // shared memory when all ranks share a node, else messages
    kMessages,      // always the ring over point-to-point messages
    kSharedMemory,  // shared memory; an error when the ranks span several nodes
  };
  Path path = Path::kAuto;
  RingOptions ring;
  // The shared-memory path works through the buffer in pieces of this many bytes (each rank's
  // window is twice this size); pieces small enough to stay in the last-level cache move data
  // between ranks without a round trip to memory.
  size_t shm_piece_bytes = size_t(1) << 20;
};

class RingMpiCommunicator : public MpiCommunicator {
 public:
  explicit RingMpiCommunicator(MPI_Comm comm, RingMpiOptions options = {});
  ~RingMpiCommunicator() override;

  std::string backend() const override { return "mpi-ring"; }
  // Collective. The first call decides the path (and maps the shared window) on all ranks.
  void allreduce(void* data, size_t count, DType type, ReduceOp op) override;

  const RingMpiOptions& options() const { return options_; }
  // Which path allreduce took: "messages" or "shared-memory" ("undecided" before the first call).
  const char* path() const;

 private:
  RingMpiOptions options_;
  RingScratch scratch_;
  bool decided_ = false;
  std::unique_ptr<detail::ShmAllreduce> shm_;
};

}  // namespace roost::comm
