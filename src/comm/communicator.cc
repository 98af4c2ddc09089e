// roost/comm/communicator.cc — what every backend shares: element types, the eager default
// of isendrecv() for backends whose transfers make no progress outside a call, and the
// concatenate-then-allreduce default of allreduce_parts(), and no shared memory by default.
#include "roost/comm/communicator.h"

#include <cstring>

#include "roost/core/error.h"

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

const char* reduce_op_name(ReduceOp op) {
  switch (op) {
    case ReduceOp::kSum: return "sum";
    case ReduceOp::kAverage: return "avg";
  }
  return "?";
}

std::unique_ptr<Request> Communicator::isendrecv(const void* sendbuf, size_t sbytes, int dst, void* recvbuf,
                                                 size_t rbytes, int src, int tag) {
  sendrecv(sendbuf, sbytes, dst, recvbuf, rbytes, src, tag);
  return std::make_unique<DoneRequest>();
}

void Communicator::allreduce_parts(const std::vector<Part>& parts, void* out, DType type, ReduceOp op) {
  const size_t elem = dtype_size(type);
  char* dst = static_cast<char*>(out);
  size_t count = 0;
  for (const Part& p : parts) {
    if (p.count) std::memcpy(dst + count * elem, p.data, p.count * elem);
    count += p.count;
  }
  allreduce(out, count, type, op);
}

std::shared_ptr<void> Communicator::map_shared(size_t) { return nullptr; }

bool Communicator::probe(int, int) { ROOST_THROW("the ", backend(), " communicator cannot probe for messages"); }

void Communicator::reduce_apply(const std::vector<Part>&, DType, ReduceOp, const ApplyFn&) {
  ROOST_THROW("the ", backend(), " communicator cannot reduce into shared memory (reduce_apply)");
}

}  // namespace roost::comm
