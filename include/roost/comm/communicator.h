// roost/comm/communicator.h — the collective interface every backend implements.
//
// Algorithms (ring allreduce, fusion) are written against this small surface, so the same
// code runs over MPI on host memory, NCCL on device memory, or threads inside one process.
// Buffers are host memory for MPI/threads and device memory for NCCL.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace roost::comm {

enum class DType { kFloat32, kFloat64, kFloat16, kBFloat16, kInt64, kUInt8 };
enum class ReduceOp { kSum, kAverage };

size_t dtype_size(DType type);
const char* dtype_name(DType type);

class Communicator {
 public:
  virtual ~Communicator() = default;

  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual std::string backend() const = 0;  // "mpi", "nccl", "threads"

  virtual void barrier() = 0;
  virtual void broadcast(void* data, size_t bytes, int root) = 0;
  // Every rank contributes bytes_per_rank bytes; out holds size() × bytes_per_rank, rank order.
  virtual void allgather(const void* in, void* out, size_t bytes_per_rank) = 0;
  // In place: data holds `count` elements of `type` on every rank.
  virtual void allreduce(void* data, size_t count, DType type, ReduceOp op) = 0;
};

}  // namespace roost::comm
