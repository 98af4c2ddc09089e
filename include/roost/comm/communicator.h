// roost/comm/communicator.h — the collective and point-to-point interface every backend implements.
//
// Algorithms (ring allreduce, broadcast chain, fusion) are written against this small surface,
// so the same code runs over MPI on host memory, NCCL on device memory, or threads inside one
// process. Buffers are host memory for MPI/threads and device memory for NCCL.
//
// Point-to-point messages between one (src, dst) pair with one tag arrive in the order they
// were sent, and a receive must name exactly the number of bytes that was sent: these are the
// only ordering guarantees the algorithms rely on.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace roost::comm {

enum class DType { kFloat32, kFloat64, kFloat16, kBFloat16, kInt64, kUInt8 };
enum class ReduceOp { kSum, kAverage };

size_t dtype_size(DType type);
const char* dtype_name(DType type);
const char* reduce_op_name(ReduceOp op);

// A peer of kNoPeer in sendrecv/isendrecv leaves out that half of the exchange (the first and
// last rank of a broadcast chain only send or only receive).
constexpr int kNoPeer = -1;

// An exchange started by isendrecv(). wait() returns once both halves have completed; until
// then neither buffer may be touched. Destroying a request that was not waited for waits.
class Request {
 public:
  virtual ~Request() = default;
  virtual void wait() = 0;
};

// A request that completed when it was made (backends without asynchronous progress).
class DoneRequest : public Request {
 public:
  void wait() override {}
};

class Communicator {
 public:
  virtual ~Communicator() = default;

  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual std::string backend() const = 0;  // "mpi", "mpi-ring", "nccl", "threads"

  virtual void barrier() = 0;
  virtual void broadcast(void* data, size_t bytes, int root) = 0;
  // Every rank contributes bytes_per_rank bytes; out holds size() × bytes_per_rank, rank order.
  virtual void allgather(const void* in, void* out, size_t bytes_per_rank) = 0;
  // In place: data holds `count` elements of `type` on every rank.
  virtual void allreduce(void* data, size_t count, DType type, ReduceOp op) = 0;
  // The same over the concatenation of `parts` (host memory, left unchanged): the result,
  // sum of the parts' lengths elements, goes to `out`. Fusing gradients this way lets a
  // transport copy each piece in just before it reduces it, while it is still in cache,
  // instead of a whole fusion-buffer copy first. The default concatenates, then allreduce().
  struct Part {
    const void* data;
    size_t count;
  };
  virtual void allreduce_parts(const std::vector<Part>& parts, void* out, DType type, ReduceOp op);

  // Memory every rank maps (the same `bytes` on each; zero-filled), for ranks that share a
  // node; null where this backend or placement cannot share memory. Collective. The memory
  // stays mapped while any copy of the pointer lives, on each rank independently.
  virtual std::shared_ptr<void> map_shared(size_t bytes);
  // Whether this rank is the one that fills the memory map_shared returned for the ranks it
  // shares it with (one rank per such group; rank 0 where all ranks share one mapping).
  virtual bool initializes_shared() const { return rank() == 0; }
  // The reduction of allreduce_parts, without handing the whole result to every rank: each
  // chunk of the result goes, once, to one rank's `apply(part, first, count, values)` —
  // elements [first, first + count) of parts[part]'s result, a run never spanning two parts,
  // the values valid only during the call — and the call returns when every rank's applies
  // are done. For an update of memory all ranks share (map_shared), each rank thus does its
  // share of the update's work and moves none of the result. Only where map_shared returns
  // memory; elsewhere an error.
  using ApplyFn = std::function<void(size_t part, size_t first, size_t count, const void* values)>;
  virtual void reduce_apply(const std::vector<Part>& parts, DType type, ReduceOp op, const ApplyFn& apply);

  // Point to point. Tags are >= 0; tags from kReservedTagBase up are used by roost's own
  // collective algorithms, so user traffic never matches theirs.
  static constexpr int kReservedTagBase = 0x4000;
  virtual void send(const void* data, size_t bytes, int peer, int tag) = 0;
  virtual void recv(void* data, size_t bytes, int peer, int tag) = 0;
  // Sends to `dst` while receiving from `src`. A ring step is one of these on every rank: with
  // a blocking send followed by a blocking recv every rank would wait in send for a receiver
  // that is itself still sending.
  virtual void sendrecv(const void* sendbuf, size_t sbytes, int dst, void* recvbuf, size_t rbytes, int src,
                        int tag) = 0;
  // The same exchange, started now and finished by Request::wait(), so the caller can work on
  // other memory while it is in flight. The default runs sendrecv() to completion at once.
  virtual std::unique_ptr<Request> isendrecv(const void* sendbuf, size_t sbytes, int dst, void* recvbuf, size_t rbytes,
                                             int src, int tag);
  // Whether a message from `peer` under `tag` has arrived, so that recv() would not wait: a
  // coordinator that serves several peers polls with it instead of blocking on the slowest.
  // Host backends only; elsewhere an error.
  virtual bool probe(int peer, int tag);
};

}  // namespace roost::comm
