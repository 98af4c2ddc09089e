// shm_allreduce.h — allreduce for MPI ranks that share one node, through an MPI-3 shared
// memory window instead of messages. Internal to roost_comm (RingMpiCommunicator uses it).
//
// Why: on one node every MPI message is a memory copy plus a handshake (Open MPI's vader BTL
// copies large messages with one process_vm_readv system call per message and acknowledges
// it). Through a shared window each rank reads its peers' data with plain loads, the owner of
// a chunk sums it straight out of the peers' windows, and the whole buffer needs two barriers
// per piece instead of 2(n-1) handshakes per segment.
//
// The buffer is processed in pieces of at most `piece_bytes`. For a piece, chunk c belongs to
// rank c (ChunkLayout), and each rank's window holds the piece in the buffer's own layout:
//   1. every rank copies the chunks it does not own into its window (from the input: the
//      buffer itself, or for allreduce_parts the parts, never gathered first); barrier
//   2. the owner of chunk c sums its own chunk and every peer's copy of c,
//      in rank order, and publishes the result in its window;               barrier
//   3. every rank copies each finished chunk from its owner's window.
// A piece uses one of two halves of the window, alternating, so step 1 of the next piece may
// start before the peers finished step 3 of this one: by the time any rank has passed the next
// piece's first barrier, every rank has left this piece, so the half is free again two pieces
// later — a third barrier per piece is not needed.
#pragma once

#include <mpi.h>

#include <cstddef>
#include <memory>
#include <vector>

#include "parts_view.h"
#include "roost/comm/communicator.h"
#include "roost/comm/ring.h"

namespace roost::comm::detail {

class ShmAllreduce {
 public:
  // Collective over `comm`. Null when its ranks span more than one node. The barriers run on
  // a duplicate of `comm`, so they never meet collectives that other threads start on it.
  static std::unique_ptr<ShmAllreduce> create(MPI_Comm comm, size_t piece_bytes);
  ~ShmAllreduce();
  ShmAllreduce(const ShmAllreduce&) = delete;
  ShmAllreduce& operator=(const ShmAllreduce&) = delete;

  void allreduce(void* data, size_t count, DType type, ReduceOp op);
  // allreduce of the parts' concatenation into `out`: steps 1 and 2 read the parts where
  // they lie, so no pass copies them into one buffer first.
  void allreduce_parts(const std::vector<Communicator::Part>& parts, void* out, DType type, ReduceOp op);
  // Communicator::reduce_apply: steps 1 and 2 only. The owner sums its chunk block by block
  // and hands each block to `apply` instead of publishing it; one barrier per piece, and a
  // last one once every rank has applied its chunks.
  void reduce_apply(const std::vector<Communicator::Part>& parts, DType type, ReduceOp op,
                    const Communicator::ApplyFn& apply);

 private:
  ShmAllreduce(MPI_Comm own_comm, size_t piece_bytes);  // takes ownership of own_comm
  void sync();                                          // barrier with the memory-model calls around it
  // Reduces all of `in` into `out` (which may be where `in`'s one part lies), piece by piece.
  void reduce_pieces(const PartsView& in, char* out, DType type, ReduceOp op);
  // Reduces elements [first, first + count) of `in` into `data`.
  void piece(const PartsView& in, size_t first, char* data, size_t count, DType type, int divisor);
  // Step 1 of a piece: publishes the chunks other ranks own; returns the window half used.
  size_t publish(const PartsView& in, size_t first, const ChunkLayout& chunks, size_t elem);
  // Step 2 for our chunk, block by block: each block's sum goes to acc_at(offset in the
  // chunk), which is then handed to done(offset in the chunk, elements, sum).
  template <typename AccAt, typename Done>
  void sum_own_chunk(const PartsView& in, size_t first, const ChunkLayout& chunks, size_t half, DType type, int divisor,
                     AccAt&& acc_at, Done&& done);

  MPI_Comm comm_;
  int rank_ = 0, size_ = 1;
  size_t piece_bytes_;
  MPI_Win win_ = MPI_WIN_NULL;
  std::vector<char*> windows_;  // each rank's window, mapped into this process
  int half_ = 0;                // which half of the windows the next piece uses
  std::vector<char> block_;     // reduce_apply's running sum, one block
};

}  // namespace roost::comm::detail
