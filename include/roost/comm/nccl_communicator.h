// roost/comm/nccl_communicator.h — the Communicator over NCCL on device memory.
//
// One NCCL communicator per process; its ncclUniqueId is created by rank 0 and broadcast
// over MPI. Operations are enqueued on `stream` (a cudaStream_t; nullptr = the legacy
// default stream, which libtorch also uses by default) and are stream-ordered: the caller
// sees results in later work on the same stream without a host synchronization.
// CUDA-free header: the NCCL handle lives behind a pImpl.
#pragma once

#include <mpi.h>

#include <memory>

#include "roost/comm/communicator.h"

namespace roost::comm {

class NcclCommunicator : public Communicator {
 public:
  NcclCommunicator(MPI_Comm bootstrap, int device, void* stream = nullptr);
  ~NcclCommunicator() override;
  // The stream later operations are enqueued on (a cudaStream_t; nullptr = the legacy default).
  void set_stream(void* stream);
  void* stream() const;

  static bool built();  // roost compiled with NCCL

  int rank() const override;
  int size() const override;
  std::string backend() const override { return "nccl"; }

  void barrier() override;
  void broadcast(void* data, size_t bytes, int root) override;
  void allgather(const void* in, void* out, size_t bytes_per_rank) override;
  void allreduce(void* data, size_t count, DType type, ReduceOp op) override;
  // ncclSend/ncclRecv, enqueued on the stream like the collectives. NCCL has no tags: messages
  // between two ranks match in the order they are enqueued, and `tag` is ignored. A send and a
  // receive in one sendrecv form one NCCL group, so a ring step does not deadlock.
  // isendrecv keeps the base class's eager form: the exchange is enqueued when it returns, and
  // like every NCCL call it completes in stream order.
  void send(const void* data, size_t bytes, int peer, int tag) override;
  void recv(void* data, size_t bytes, int peer, int tag) override;
  void sendrecv(const void* sendbuf, size_t sbytes, int dst, void* recvbuf, size_t rbytes, int src, int tag) override;
  // Waits until every enqueued operation has finished.
  void synchronize();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace roost::comm
