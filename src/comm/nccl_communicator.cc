// roost/comm/nccl_communicator.cc — NCCL backend (compiled only when ROOST_WITH_NCCL).
#include "roost/comm/nccl_communicator.h"

#include "roost/core/cuda_check.h"
#include "roost/core/mpi_scope.h"

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

NcclCommunicator::NcclCommunicator(MPI_Comm bootstrap, int device, void* stream)
    : impl_(std::make_unique<Impl>()) {
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

void NcclCommunicator::synchronize() { CUDA_CHECK(cudaStreamSynchronize(impl_->stream)); }

}  // namespace roost::comm
