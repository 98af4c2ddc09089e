// roost/comm/ring.h — ring allreduce, chain broadcast and ring allgather over any Communicator's
// point-to-point calls, written once for MPI, threads (and, in principle, any p2p transport).
//
// Allreduce is the bandwidth-optimal ring (Patarasuk & Yuan): a reduce-scatter of n-1 steps in
// which each rank forwards a partial sum of one chunk (count/n elements) to its right
// neighbour, then an allgather of n-1 steps that circulates the finished chunks. Each chunk is
// reduced by exactly one owner and then copied, so every rank ends bitwise identical.
// Chunks are cut into segments so that a received segment is summed while it is still in
// cache, and while the next segment is in flight.
//
// Buffers are host memory (the reduction runs on the CPU).
#pragma once

#include <cstddef>
#include <memory>

#include "roost/comm/communicator.h"

namespace roost::comm {

struct RingOptions {
  // Bytes per pipelined piece of a chunk (reduce-scatter) and of a broadcast. Smaller pieces
  // start the pipeline sooner and stay in cache; larger ones pay per-message costs less often.
  size_t segment_bytes = size_t(1) << 20;
  // First tag the algorithms use; each algorithm uses a few tags above it.
  int tag = Communicator::kReservedTagBase;
  // What an average divides by; 0: the ring's own size. A ring between node leaders divides
  // by the whole job's size, at the same last addition.
  int average_over = 0;
};

// Memory the allreduce receives segments into (two of them). A communicator that runs many
// allreduces keeps one, so that a call neither allocates nor faults in fresh pages.
class RingScratch {
 public:
  void* get(size_t bytes);

 private:
  std::unique_ptr<char[]> buffer_;
  size_t bytes_ = 0;
};

// In place: `data` holds `count` elements of `type` on every rank; afterwards every rank holds
// the element-wise sum (or average). 16-bit floats are accumulated in float32 per step and
// rounded back to nearest even. Integer types support kSum only.
void ring_allreduce(Communicator& comm, void* data, size_t count, DType type, ReduceOp op,
                    const RingOptions& options = {}, RingScratch* scratch = nullptr);

// `root`'s `bytes` bytes reach every rank through a chain root → root+1 → … → root-1, cut into
// segments so that all links carry data at once.
void ring_broadcast(Communicator& comm, void* data, size_t bytes, int root, const RingOptions& options = {});

// Every rank contributes bytes_per_rank bytes; `out` receives size() × bytes_per_rank in rank
// order. `in` may point into `out` at this rank's slot.
void ring_allgather(Communicator& comm, const void* in, void* out, size_t bytes_per_rank,
                    const RingOptions& options = {});

// The chunk layout the ring uses: `count` elements into `parts` contiguous pieces whose sizes
// differ by at most one, the larger ones first.
struct ChunkLayout {
  size_t count = 0;
  int parts = 1;
  size_t offset(int chunk) const;  // first element of `chunk`
  size_t length(int chunk) const;  // elements in `chunk`
};

}  // namespace roost::comm
