// roost/comm/mpi_communicator.h — the Communicator over an MPI communicator (host memory).
// It does not own the MPI_Comm: MpiScope does.
//
// Collectives are MPI's own (MPI_Allreduce and friends); RingMpiCommunicator
// (ring_mpi_communicator.h) runs roost's ring over this class's point-to-point calls instead.
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
  MPI_Comm comm() const { return comm_; }

  void barrier() override;
  void broadcast(void* data, size_t bytes, int root) override;
  void allgather(const void* in, void* out, size_t bytes_per_rank) override;
  void allreduce(void* data, size_t count, DType type, ReduceOp op) override;

  // Messages longer than MPI's int counts allow travel as several messages, in order.
  void send(const void* data, size_t bytes, int peer, int tag) override;
  void recv(void* data, size_t bytes, int peer, int tag) override;
  void sendrecv(const void* sendbuf, size_t sbytes, int dst, void* recvbuf, size_t rbytes, int src, int tag) override;
  // MPI_Irecv + MPI_Isend; the request's wait() is MPI_Waitall.
  std::unique_ptr<Request> isendrecv(const void* sendbuf, size_t sbytes, int dst, void* recvbuf, size_t rbytes, int src,
                                     int tag) override;
  bool probe(int peer, int tag) override;  // MPI_Iprobe

 private:
  MPI_Comm comm_;
  int rank_ = 0, size_ = 1;
};

}  // namespace roost::comm
