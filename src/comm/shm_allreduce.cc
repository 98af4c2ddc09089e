// shm_allreduce.cc — allreduce through an MPI-3 shared-memory window (ranks on one node).
#include "shm_allreduce.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <exception>

#include "node_groups.h"
#include "node_shared.h"
#include "reduce.h"
#include "roost/comm/ring.h"
#include "roost/comm/mpi_scope.h"

namespace roost::comm::detail {
namespace {
// The owner sums its chunk block by block, all peers per block, so the running sum stays in
// L1/L2 instead of being streamed through memory once per peer.
constexpr size_t kBlockBytes = 32 << 10;
}  // namespace

std::unique_ptr<ShmAllreduce> ShmAllreduce::create(MPI_Comm comm, size_t piece_bytes) {
  MPI_Comm own = MPI_COMM_NULL;
  MPI_CHECK(MPI_Comm_dup(comm, &own));
  MPI_Comm_set_errhandler(own, MPI_ERRORS_RETURN);
  int size = 0, node_size = 0;
  MPI_Comm_size(own, &size);
  MPI_Comm node = split_nodes(own);  // roost's nodes (ROOST_NODE_SPLIT may cut them)
  MPI_Comm_size(node, &node_size);
  MPI_Comm_free(&node);
  // Every rank must agree, or some would create the window and others would not.
  int mine = node_size == size ? 1 : 0, all = 0;
  int rc = MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_MIN, own);
  if (rc != MPI_SUCCESS || all != 1) {
    MPI_Comm_free(&own);
    MPI_CHECK(rc);
    return nullptr;
  }
  return std::unique_ptr<ShmAllreduce>(new ShmAllreduce(own, piece_bytes));
}

ShmAllreduce::ShmAllreduce(MPI_Comm own_comm, size_t piece_bytes)
    : comm_(own_comm), piece_bytes_(std::max<size_t>(piece_bytes, 64)) {
  MPI_CHECK(MPI_Comm_rank(comm_, &rank_));
  MPI_CHECK(MPI_Comm_size(comm_, &size_));
  win_ = allocate_node_windows(comm_, 2 * piece_bytes_, windows_);
}

ShmAllreduce::~ShmAllreduce() {
  // Freeing a window or a communicator is collective. While an exception unwinds only this
  // rank may be here, and waiting for the others would hang; the process is on its way out,
  // so leave both to it.
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized || std::uncaught_exceptions() > 0) return;
  MPI_Win_unlock_all(win_);
  MPI_Win_free(&win_);
  MPI_Comm_free(&comm_);
}

void ShmAllreduce::sync() {
  // MPI_Win_sync orders the window's loads and stores; the fences do the same for memory
  // outside it that the ranks share (reduce_apply's updates land there).
  std::atomic_thread_fence(std::memory_order_seq_cst);
  MPI_CHECK(MPI_Win_sync(win_));
  MPI_CHECK(MPI_Barrier(comm_));
  MPI_CHECK(MPI_Win_sync(win_));
  std::atomic_thread_fence(std::memory_order_seq_cst);
}

void ShmAllreduce::allreduce(void* data, size_t count, DType type, ReduceOp op) {
  if (size_ == 1 || count == 0) return;
  // In place: the input is the buffer itself, one part.
  const std::vector<Communicator::Part> whole = {{data, count}};
  reduce_pieces(PartsView(whole, dtype_size(type)), static_cast<char*>(data), type, op);
}

void ShmAllreduce::allreduce_parts(const std::vector<Communicator::Part>& parts, void* out, DType type, ReduceOp op) {
  const PartsView view(parts, dtype_size(type));
  if (view.count() == 0) return;
  if (size_ == 1) view.copy(0, view.count(), static_cast<char*>(out));
  else reduce_pieces(view, static_cast<char*>(out), type, op);
}

void ShmAllreduce::reduce_pieces(const PartsView& in, char* out, DType type, ReduceOp op) {
  const size_t elem = dtype_size(type);
  const size_t piece_elems = std::max<size_t>(1, piece_bytes_ / elem);
  const int divisor = op == ReduceOp::kAverage ? size_ : 1;
  for (size_t first = 0; first < in.count(); first += piece_elems)
    piece(in, first, out + first * elem, std::min(piece_elems, in.count() - first), type, divisor);
}

size_t ShmAllreduce::publish(const PartsView& in, size_t first, const ChunkLayout& chunks, size_t elem) {
  const size_t half = static_cast<size_t>(half_) * piece_bytes_;
  half_ ^= 1;
  char* mine = windows_[rank_] + half;
  for (int c = 0; c < size_; ++c)
    if (c != rank_) in.copy(first + chunks.offset(c), chunks.length(c), mine + chunks.offset(c) * elem);
  return half;
}

template <typename AccAt, typename Done>
void ShmAllreduce::sum_own_chunk(const PartsView& in, size_t first, const ChunkLayout& chunks, size_t half, DType type,
                                 int divisor, AccAt&& acc_at, Done&& done) {
  // Our own input plus every peer's copy, in rank order; the last addition divides for an
  // average.
  const size_t elem = dtype_size(type);
  const size_t own = chunks.offset(rank_), len = chunks.length(rank_);
  const size_t block = std::max<size_t>(1, kBlockBytes / elem);
  for (size_t b = 0; b < len; b += block) {
    const size_t n = std::min(block, len - b);
    char* acc = acc_at(b);
    int added = 0;
    for (int peer = 0; peer < size_; ++peer) {
      if (peer == rank_) continue;
      const char* theirs = windows_[peer] + half + (own + b) * elem;
      const int div = ++added == size_ - 1 ? divisor : 1;
      if (added > 1) {
        reduce_sum(type, acc, acc, theirs, n, div);
        continue;
      }
      // The first addition reads our own values from the input part(s) the block spans (for
      // the in-place allreduce that is `acc` itself).
      in.for_each(first + own + b, n, [&](const char* mine, size_t i, size_t m) {
        reduce_sum(type, acc + i * elem, mine, theirs + i * elem, m, div);
      });
    }
    done(b, n, acc);
  }
}

void ShmAllreduce::piece(const PartsView& in, size_t first, char* data, size_t count, DType type, int divisor) {
  const size_t elem = dtype_size(type);
  const ChunkLayout chunks{count, size_};
  auto at = [&](char* base, int chunk) { return base + chunks.offset(chunk) * elem; };

  // 1. Publish the chunks the other ranks own, straight from the input.
  const size_t half = publish(in, first, chunks, elem);
  sync();

  // 2. Sum our chunk into `data` and publish it in our window.
  char* mine = windows_[rank_] + half;
  sum_own_chunk(
      in, first, chunks, half, type, divisor, [&](size_t b) { return at(data, rank_) + b * elem; },
      [&](size_t b, size_t n, const char* acc) { std::memcpy(at(mine, rank_) + b * elem, acc, n * elem); });
  sync();

  // 3. Collect every finished chunk from its owner.
  for (int c = 0; c < size_; ++c)
    if (c != rank_) std::memcpy(at(data, c), at(windows_[c] + half, c), chunks.length(c) * elem);
}

void ShmAllreduce::reduce_apply(const std::vector<Communicator::Part>& parts, DType type, ReduceOp op,
                                const Communicator::ApplyFn& apply) {
  const PartsView in(parts, dtype_size(type));
  const size_t elem = dtype_size(type);
  if (in.count() == 0) return;
  block_.resize(kBlockBytes + elem);
  const int divisor = op == ReduceOp::kAverage ? size_ : 1;
  const size_t piece_elems = std::max<size_t>(1, piece_bytes_ / elem);
  for (size_t first = 0; first < in.count(); first += piece_elems) {
    const ChunkLayout chunks{std::min(piece_elems, in.count() - first), size_};
    // One barrier per piece: a rank past the next piece's barrier knows every rank is done
    // reading this piece's half, which the piece after next reuses.
    const size_t half = publish(in, first, chunks, elem);
    sync();
    sum_own_chunk(
        in, first, chunks, half, type, divisor, [&](size_t) { return block_.data(); },
        [&](size_t b, size_t n, const char* acc) {
          in.runs(first + chunks.offset(rank_) + b, n,
                  [&](size_t part, size_t in_part, size_t at, size_t m) { apply(part, in_part, m, acc + at * elem); });
        });
  }
  sync();  // every rank's applies are done (and visible) before anyone returns
}

}  // namespace roost::comm::detail
