// roost/comm/nccl_communicator.cc — NCCL backend (compiled only when ROOST_WITH_NCCL).
#include "roost/comm/nccl_communicator.h"

#include "roost/core/cuda_check.h"
#include "roost/comm/mpi_scope.h"

namespace roost::comm {

struct NcclCommunicator::Impl {
  MPI_Comm bootstrap = MPI_COMM_NULL;
  ncclComm_t comm = nullptr;
  cudaStream_t stream = nullptr;
  int rank = 0, size = 1;

  ~Impl() {
    if (comm) ncclCommDestroy(comm);
  }
};

namespace {
ncclDataType_t nccl_type(DType type) {
  switch (type) {
    case DType::kFloat32: return ncclFloat32;
    case DType::kFloat64: return ncclFloat64;
    case DType::kFloat16: return ncclFloat16;
    case DType::kBFloat16: return ncclBfloat16;
    case DType::kInt64: return ncclInt64;
    case DType::kUInt8: return ncclUint8;
  }
  return ncclFloat32;
}
}  // namespace

bool NcclCommunicator::built() { return true; }

NcclCommunicator::NcclCommunicator(MPI_Comm bootstrap, int device, void* stream) : impl_(std::make_unique<Impl>()) {
  impl_->bootstrap = bootstrap;
  impl_->stream = static_cast<cudaStream_t>(stream);
  MPI_CHECK(MPI_Comm_rank(bootstrap, &impl_->rank));
  MPI_CHECK(MPI_Comm_size(bootstrap, &impl_->size));
  CUDA_CHECK(cudaSetDevice(device));
  ncclUniqueId id;
  if (impl_->rank == 0) NCCL_CHECK(ncclGetUniqueId(&id));
  MPI_CHECK(MPI_Bcast(&id, sizeof id, MPI_BYTE, 0, bootstrap));
  NCCL_CHECK(ncclCommInitRank(&impl_->comm, impl_->size, id, impl_->rank));
}

NcclCommunicator::~NcclCommunicator() = default;

void NcclCommunicator::set_stream(void* stream) { impl_->stream = static_cast<cudaStream_t>(stream); }
void* NcclCommunicator::stream() const { return impl_->stream; }

int NcclCommunicator::rank() const { return impl_->rank; }
int NcclCommunicator::size() const { return impl_->size; }

void NcclCommunicator::barrier() {
  synchronize();
  MPI_CHECK(MPI_Barrier(impl_->bootstrap));
}

void NcclCommunicator::broadcast(void* data, size_t bytes, int root) {
  NCCL_CHECK(ncclBroadcast(data, data, bytes, ncclUint8, root, impl_->comm, impl_->stream));
}

void NcclCommunicator::allgather(const void* in, void* out, size_t bytes_per_rank) {
  NCCL_CHECK(ncclAllGather(in, out, bytes_per_rank, ncclUint8, impl_->comm, impl_->stream));
}

void NcclCommunicator::allreduce(void* data, size_t count, DType type, ReduceOp op) {
  ncclRedOp_t nop = op == ReduceOp::kAverage ? ncclAvg : ncclSum;
  NCCL_CHECK(ncclAllReduce(data, data, count, nccl_type(type), nop, impl_->comm, impl_->stream));
}

void NcclCommunicator::send(const void* data, size_t bytes, int peer, int /*tag*/) {
  NCCL_CHECK(ncclSend(data, bytes, ncclUint8, peer, impl_->comm, impl_->stream));
}

void NcclCommunicator::recv(void* data, size_t bytes, int peer, int /*tag*/) {
  NCCL_CHECK(ncclRecv(data, bytes, ncclUint8, peer, impl_->comm, impl_->stream));
}

void NcclCommunicator::sendrecv(const void* sendbuf, size_t sbytes, int dst, void* recvbuf, size_t rbytes, int src,
                                int /*tag*/) {
  NCCL_CHECK(ncclGroupStart());
  // ncclGroupEnd must run even when an enqueue fails, or the group stays open on this thread.
  ncclResult_t rc = ncclSuccess;
  if (dst != kNoPeer) rc = ncclSend(sendbuf, sbytes, ncclUint8, dst, impl_->comm, impl_->stream);
  if (rc == ncclSuccess && src != kNoPeer) rc = ncclRecv(recvbuf, rbytes, ncclUint8, src, impl_->comm, impl_->stream);
  ncclResult_t end = ncclGroupEnd();
  NCCL_CHECK(rc);
  NCCL_CHECK(end);
}

void NcclCommunicator::synchronize() { CUDA_CHECK(cudaStreamSynchronize(impl_->stream)); }

}  // namespace roost::comm
