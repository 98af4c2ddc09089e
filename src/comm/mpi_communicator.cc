// roost/comm/mpi_communicator.cc — collectives over MPI on host memory.
#include "roost/comm/mpi_communicator.h"

#include <climits>

#include "roost/core/mpi_scope.h"

namespace roost::comm {

size_t dtype_size(DType type) {
  switch (type) {
    case DType::kFloat32: return 4;
    case DType::kFloat64: return 8;
    case DType::kFloat16: return 2;
    case DType::kBFloat16: return 2;
    case DType::kInt64: return 8;
    case DType::kUInt8: return 1;
  }
  return 0;
}

const char* dtype_name(DType type) {
  switch (type) {
    case DType::kFloat32: return "float32";
    case DType::kFloat64: return "float64";
    case DType::kFloat16: return "float16";
    case DType::kBFloat16: return "bfloat16";
    case DType::kInt64: return "int64";
    case DType::kUInt8: return "uint8";
  }
  return "?";
}

namespace {
// MPI counts are int: larger messages go in pieces.
constexpr size_t kMaxChunk = INT_MAX / 8;

MPI_Datatype mpi_type(DType type) {
  switch (type) {
    case DType::kFloat32: return MPI_FLOAT;
    case DType::kFloat64: return MPI_DOUBLE;
    case DType::kInt64: return MPI_INT64_T;
    case DType::kUInt8: return MPI_UINT8_T;
    default: ROOST_THROW("MPI allreduce of ", dtype_name(type), " needs the ring engine");
  }
}

template <typename T>
void scale(void* data, size_t count, double factor) {
  T* p = static_cast<T*>(data);
  for (size_t i = 0; i < count; ++i) p[i] = static_cast<T>(p[i] * factor);
}
}  // namespace

MpiCommunicator::MpiCommunicator(MPI_Comm comm) : comm_(comm) {
  MPI_CHECK(MPI_Comm_rank(comm_, &rank_));
  MPI_CHECK(MPI_Comm_size(comm_, &size_));
}

void MpiCommunicator::barrier() { MPI_CHECK(MPI_Barrier(comm_)); }

void MpiCommunicator::broadcast(void* data, size_t bytes, int root) {
  auto* p = static_cast<char*>(data);
  for (size_t off = 0; off < bytes; off += kMaxChunk) {
    int n = static_cast<int>(std::min(kMaxChunk, bytes - off));
    MPI_CHECK(MPI_Bcast(p + off, n, MPI_BYTE, root, comm_));
  }
}

void MpiCommunicator::allgather(const void* in, void* out, size_t bytes_per_rank) {
  ROOST_CHECK(bytes_per_rank <= kMaxChunk, "allgather of ", bytes_per_rank, " bytes per rank");
  MPI_CHECK(MPI_Allgather(in, static_cast<int>(bytes_per_rank), MPI_BYTE, out,
                          static_cast<int>(bytes_per_rank), MPI_BYTE, comm_));
}

void MpiCommunicator::allreduce(void* data, size_t count, DType type, ReduceOp op) {
  MPI_Datatype mt = mpi_type(type);
  size_t elem = dtype_size(type);
  auto* p = static_cast<char*>(data);
  for (size_t off = 0; off < count; off += kMaxChunk) {
    int n = static_cast<int>(std::min(kMaxChunk, count - off));
    MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, p + off * elem, n, mt, MPI_SUM, comm_));
  }
  if (op == ReduceOp::kAverage && size_ > 1) {
    double f = 1.0 / size_;
    if (type == DType::kFloat32) scale<float>(data, count, f);
    else if (type == DType::kFloat64) scale<double>(data, count, f);
    else ROOST_THROW("average of ", dtype_name(type), " is not defined");
  }
}

}  // namespace roost::comm
