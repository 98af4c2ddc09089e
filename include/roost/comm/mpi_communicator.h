// roost/comm/mpi_communicator.h — the Communicator over an MPI communicator (host memory).
// It does not own the MPI_Comm: MpiScope does.
#pragma once

#include <mpi.h>

#include "roost/comm/communicator.h"

namespace roost::comm {

class MpiCommunicator : public Communicator {
 public:
  explicit MpiCommunicator(MPI_Comm comm);

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string backend() const override { return "mpi"; }

  void barrier() override;
  void broadcast(void* data, size_t bytes, int root) override;
  void allgather(const void* in, void* out, size_t bytes_per_rank) override;
  void allreduce(void* data, size_t count, DType type, ReduceOp op) override;

 private:
  MPI_Comm comm_;
  int rank_ = 0, size_ = 1;
};

}  // namespace roost::comm
