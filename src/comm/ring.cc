// ring.cc — ring allreduce, chain broadcast and ring allgather over Communicator::isendrecv.
//
// Ring allreduce with n ranks, rank r, chunks numbered 0..n-1 (chunk c is owned by rank c):
//   reduce-scatter step s = 0..n-2: send chunk r-s-1 to the right, receive chunk r-s-2 from
//     the left and add it into our copy. What we receive at step s is what we send at step
//     s+1, and at the last step we receive chunk r: it then holds the sum over all ranks.
//   allgather step s = 0..n-2: send chunk r-s, receive chunk r-s-1 straight into place.
// Every chunk is summed exactly once, by its owner, in the same order on every run, and then
// copied byte for byte; so all ranks end bitwise identical whatever the dtype.
#include "roost/comm/ring.h"

#include <algorithm>
#include <cstring>

#include "reduce.h"
#include "roost/core/error.h"

namespace roost::comm {
namespace {

int mod(int a, int n) { return ((a % n) + n) % n; }

// A piece [offset, offset + length) of the buffer, in elements.
struct Piece {
  size_t offset = 0;
  size_t length = 0;
};

// Segment k of `chunk`: empty once k passes the chunk's end (chunks differ by one element,
// and every rank must run the same number of segments per step).
Piece segment(const ChunkLayout& chunks, int chunk, size_t k, size_t seg) {
  const size_t len = chunks.length(chunk);
  const size_t begin = std::min(k * seg, len);
  const size_t end = std::min(begin + seg, len);
  return {chunks.offset(chunk) + begin, end - begin};
}

}  // namespace

size_t ChunkLayout::offset(int chunk) const {
  const size_t base = count / parts, rem = count % parts;
  const size_t c = static_cast<size_t>(chunk);
  return c * base + std::min(c, rem);
}

size_t ChunkLayout::length(int chunk) const {
  const size_t base = count / parts, rem = count % parts;
  return base + (static_cast<size_t>(chunk) < rem ? 1 : 0);
}

void* RingScratch::get(size_t bytes) {
  if (bytes > bytes_) {
    buffer_.reset(new char[bytes]);
    bytes_ = bytes;
  }
  return buffer_.get();
}

void ring_allreduce(Communicator& comm, void* data, size_t count, DType type, ReduceOp op, const RingOptions& options,
                    RingScratch* scratch) {
  ROOST_CHECK(detail::reduction_supported(type, op), reduce_op_name(op), " of ", dtype_name(type), " is not defined");
  const int n = comm.size(), r = comm.rank();
  if (n == 1 || count == 0) return;  // the average over one rank is the value itself

  const size_t elem = dtype_size(type);
  const ChunkLayout chunks{count, n};
  const size_t seg = std::min(std::max<size_t>(1, options.segment_bytes / elem), chunks.length(0));
  const size_t nseg = (chunks.length(0) + seg - 1) / seg;  // chunk 0 is the longest
  const int divisor = op == ReduceOp::kAverage ? (options.average_over > 0 ? options.average_over : n) : 1;
  const int right = mod(r + 1, n), left = mod(r - 1, n);
  char* base = static_cast<char*>(data);

  RingScratch local;
  char* slots = static_cast<char*>((scratch ? scratch : &local)->get(2 * seg * elem));

  // The 2(n-1) steps × nseg segments run as one sequence of items; item i is
  //   reduce-scatter (i < half): step i / nseg, segment i % nseg, received into a scratch slot;
  //   allgather (i >= half):     received straight into `data`.
  const size_t half = static_cast<size_t>(n - 1) * nseg, items = 2 * half;
  struct Item {
    Piece send, recv;
    bool reduce;
    int divisor;
    char* landing;
  };
  auto item = [&](size_t i) {
    Item it;
    it.reduce = i < half;
    const size_t j = it.reduce ? i : i - half;
    const int s = static_cast<int>(j / nseg);
    const size_t k = j % nseg;
    const int send_chunk = it.reduce ? mod(r - s - 1, n) : mod(r - s, n);
    const int recv_chunk = it.reduce ? mod(r - s - 2, n) : mod(r - s - 1, n);
    it.send = segment(chunks, send_chunk, k, seg);
    it.recv = segment(chunks, recv_chunk, k, seg);
    it.divisor = s == n - 2 ? divisor : 1;  // the owner's last addition also averages
    it.landing = it.reduce ? slots + (i & 1) * seg * elem : base + it.recv.offset * elem;
    return it;
  };
  // Both neighbours compute the same piece sizes, so an empty half is skipped on both sides.
  auto start = [&](const Item& it) -> std::unique_ptr<Request> {
    if (it.send.length == 0 && it.recv.length == 0) return std::make_unique<DoneRequest>();
    return comm.isendrecv(base + it.send.offset * elem, it.send.length * elem, it.send.length ? right : kNoPeer,
                          it.landing, it.recv.length * elem, it.recv.length ? left : kNoPeer, options.tag);
  };

  // Why the loop is shaped so: after item i has arrived, item i+1's exchange is started
  // *before* item i is summed, so one segment is in flight while the previous one is reduced,
  // and the reduction reads a segment that was just received, still in cache. (Over MPI on one
  // node the neighbour copies our posted segment inside its own wait while we are summing;
  // over a network the NIC moves it.) Two scratch slots alternate, so the in-flight receive
  // never lands on the slot being summed. The one hazard is that item i+1 may send the very
  // segment item i is summing into — the same chunk forwarded one step later — and that
  // happens exactly when a chunk is a single segment (consecutive items then name the same
  // segment); in that case the next exchange is started after the sum.
  const bool overlap = nseg > 1;
  std::unique_ptr<Request> inflight = start(item(0));
  for (size_t i = 0; i < items; ++i) {
    const Item it = item(i);
    inflight->wait();
    std::unique_ptr<Request> next;
    if (overlap && i + 1 < items) next = start(item(i + 1));
    if (it.reduce && it.recv.length > 0) {
      char* dst = base + it.recv.offset * elem;
      detail::reduce_sum(type, dst, dst, it.landing, it.recv.length, it.divisor);
    }
    if (!overlap && i + 1 < items) next = start(item(i + 1));
    inflight = std::move(next);
  }
}

void ring_broadcast(Communicator& comm, void* data, size_t bytes, int root, const RingOptions& options) {
  const int n = comm.size(), r = comm.rank();
  ROOST_CHECK(root >= 0 && root < n, "broadcast root ", root, " outside 0..", n - 1);
  if (n == 1 || bytes == 0) return;
  // The chain root → root+1 → … → root-1: the last rank has no right neighbour, the root no left.
  const int pos = mod(r - root, n);
  const int right = pos == n - 1 ? kNoPeer : mod(r + 1, n);
  const int left = pos == 0 ? kNoPeer : mod(r - 1, n);
  const size_t seg = std::max<size_t>(1, options.segment_bytes);
  const size_t nseg = (bytes + seg - 1) / seg;
  char* p = static_cast<char*>(data);
  auto length = [&](size_t k) { return std::min(seg, bytes - k * seg); };
  // Round k forwards segment k-1 while receiving segment k, so after the first n-1 rounds every
  // link of the chain carries a segment at the same time: nseg + n - 2 rounds, not nseg·(n-1).
  for (size_t k = 0; k <= nseg; ++k) {
    const bool send = right != kNoPeer && k >= 1;
    const bool recv = left != kNoPeer && k < nseg;
    if (!send && !recv) continue;
    comm.sendrecv(send ? p + (k - 1) * seg : nullptr, send ? length(k - 1) : 0, send ? right : kNoPeer,
                  recv ? p + k * seg : nullptr, recv ? length(k) : 0, recv ? left : kNoPeer, options.tag + 1);
  }
}

void ring_allgather(Communicator& comm, const void* in, void* out, size_t bytes_per_rank, const RingOptions& options) {
  const int n = comm.size(), r = comm.rank();
  char* o = static_cast<char*>(out);
  auto block = [&](int c) { return o + static_cast<size_t>(c) * bytes_per_rank; };
  if (bytes_per_rank == 0) return;
  if (in != block(r)) std::memmove(block(r), in, bytes_per_rank);
  const int right = mod(r + 1, n), left = mod(r - 1, n);
  // Step s forwards the block that arrived at step s-1 (our own at step 0).
  for (int s = 0; s < n - 1; ++s)
    comm.sendrecv(block(mod(r - s, n)), bytes_per_rank, right, block(mod(r - s - 1, n)), bytes_per_rank, left,
                  options.tag + 2);
}

}  // namespace roost::comm
