// hier_allreduce.cc — reduce inside each node, exchange between node leaders, broadcast inside
// the node, piece by piece with the exchanges in flight (see hier_allreduce.h).
#include "hier_allreduce.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <exception>

#include "node_groups.h"
#include "node_shared.h"
#include "reduce.h"
#include "roost/comm/mpi_communicator.h"
#include "roost/comm/mpi_scope.h"
#include "roost/comm/ring.h"

namespace roost::comm::detail {
namespace {
constexpr size_t kBlockBytes = 32 << 10;  // the owner's running sum stays in L1/L2 (as ShmAllreduce)
constexpr int kTag = 0x4100;              // the leaders' exchange, on their own communicator
}  // namespace

struct HierAllreduce::Job {
  const PartsView& in;
  char* out;                           // null: reduce_apply
  const Communicator::ApplyFn* apply;  // reduce_apply only
  DType type;
  size_t elem, piece_elems, pieces;
  int divisor;  // the average's (the job's size), else 1
  size_t first(size_t p) const { return p * piece_elems; }
  size_t count(size_t p) const { return std::min(piece_elems, in.count() - first(p)); }
};

std::unique_ptr<HierAllreduce> HierAllreduce::create(MPI_Comm comm, size_t piece_bytes) {
  MPI_Comm node = split_nodes(comm);
  return std::unique_ptr<HierAllreduce>(new HierAllreduce(comm, node, piece_bytes));
}

HierAllreduce::HierAllreduce(MPI_Comm comm, MPI_Comm node, size_t piece_bytes)
    : piece_bytes_(std::clamp<size_t>(piece_bytes, 64, size_t(1) << 30)), node_(node) {
  piece_bytes_ = (piece_bytes_ + 63) / 64 * 64;  // slots on cache lines of their own
  MPI_CHECK(MPI_Comm_size(comm, &world_size_));
  MPI_CHECK(MPI_Comm_rank(node_, &node_rank_));
  MPI_CHECK(MPI_Comm_size(node_, &node_size_));
  build_leaders(comm);
  win_ = allocate_node_windows(node_, (kSlots + 1) * piece_bytes_, windows_);
  if (node_rank_ == 0) staging_.resize(kInFlight * piece_bytes_);
}

// The leaders' communicator (ordered by world rank, so node i is the node of the i-th
// lowest leader), how many nodes there are, and for two nodes the other node's size.
void HierAllreduce::build_leaders(MPI_Comm comm) {
  int rank = 0;
  MPI_CHECK(MPI_Comm_rank(comm, &rank));
  const bool leader = node_rank_ == 0;
  MPI_CHECK(MPI_Comm_split(comm, leader ? 0 : MPI_UNDEFINED, rank, &leaders_comm_));
  int facts[2] = {0, 0};  // nodes, this node's index
  if (leader) {
    MPI_CHECK(MPI_Comm_set_errhandler(leaders_comm_, MPI_ERRORS_RETURN));
    MPI_CHECK(MPI_Comm_size(leaders_comm_, &facts[0]));
    MPI_CHECK(MPI_Comm_rank(leaders_comm_, &facts[1]));
    leaders_ = std::make_unique<MpiCommunicator>(leaders_comm_);
    if (facts[0] == 2)
      MPI_CHECK(MPI_Sendrecv(&node_size_, 1, MPI_INT, 1 - facts[1], kTag, &other_size_, 1, MPI_INT, 1 - facts[1], kTag,
                             leaders_comm_, MPI_STATUS_IGNORE));
  }
  MPI_CHECK(MPI_Bcast(facts, 2, MPI_INT, 0, node_));
  nodes_ = facts[0];
  node_index_ = facts[1];
}

HierAllreduce::~HierAllreduce() {
  // As ShmAllreduce: freeing is collective, so not while an exception unwinds one rank.
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized || std::uncaught_exceptions() > 0) return;
  MPI_Win_unlock_all(win_);
  MPI_Win_free(&win_);
  leaders_.reset();
  if (leaders_comm_ != MPI_COMM_NULL) MPI_Comm_free(&leaders_comm_);
  MPI_Comm_free(&node_);
}

void HierAllreduce::sync() {
  std::atomic_thread_fence(std::memory_order_seq_cst);
  MPI_CHECK(MPI_Win_sync(win_));
  MPI_CHECK(MPI_Barrier(node_));
  MPI_CHECK(MPI_Win_sync(win_));
  std::atomic_thread_fence(std::memory_order_seq_cst);
}

char* HierAllreduce::slot(int node_rank, size_t piece) const {
  return windows_[node_rank] + (piece % kSlots) * piece_bytes_;
}

void HierAllreduce::allreduce(void* data, size_t count, DType type, ReduceOp op) {
  const std::vector<Communicator::Part> whole = {{data, count}};
  allreduce_parts(whole, data, type, op);  // in place: the one part is the output
}

void HierAllreduce::allreduce_parts(const std::vector<Communicator::Part>& parts, void* out, DType type, ReduceOp op) {
  const size_t elem = dtype_size(type), piece_elems = std::max<size_t>(1, piece_bytes_ / elem);
  const PartsView in(parts, elem);
  if (in.count() == 0) return;
  const int divisor = op == ReduceOp::kAverage ? world_size_ : 1;
  run(Job{in, static_cast<char*>(out), nullptr, type, elem, piece_elems, (in.count() + piece_elems - 1) / piece_elems,
          divisor});
}

void HierAllreduce::reduce_apply(const std::vector<Communicator::Part>& parts, DType type, ReduceOp op,
                                 const Communicator::ApplyFn& apply) {
  const size_t elem = dtype_size(type), piece_elems = std::max<size_t>(1, piece_bytes_ / elem);
  const PartsView in(parts, elem);
  if (in.count() == 0) return;
  const int divisor = op == ReduceOp::kAverage ? world_size_ : 1;
  run(Job{in, nullptr, &apply, type, elem, piece_elems, (in.count() + piece_elems - 1) / piece_elems, divisor});
}

// Step k reduces piece k inside the node and starts its exchange, and delivers the piece
// whose exchange started kInFlight steps before (once no pieces are left, one per step).
// Slots: piece k's node sum is read by its exchange until it is finished, at step k +
// kInFlight before that step's first barrier; piece k + kSlots is published into the same
// slot only after step k + kInFlight's last barrier. The broadcast area is rewritten before
// a step's first barrier, once every rank has passed the previous step's last one, after
// copying from it.
void HierAllreduce::run(const Job& job) {
  const bool leader = node_rank_ == 0;
  size_t finished = 0;
  for (size_t k = 0; finished < job.pieces; ++k) {
    const bool fresh = k < job.pieces;
    const bool finish = !fresh || k - finished >= kInFlight;
    if (fresh) publish(job, k);
    if (finish && leader) finish_exchange(job, finished);
    sync();
    if (finish) deliver(job, finished);
    if (fresh) reduce_own(job, k);
    sync();
    if (fresh && leader) start_exchange(job, k);
    if (finish) ++finished;
  }
}

void HierAllreduce::publish(const Job& job, size_t piece) {
  const ChunkLayout chunks{job.count(piece), node_size_};
  char* mine = slot(node_rank_, piece);
  for (int c = 0; c < node_size_; ++c)
    if (c != node_rank_)
      job.in.copy(job.first(piece) + chunks.offset(c), chunks.length(c), mine + chunks.offset(c) * job.elem);
}

void HierAllreduce::reduce_own(const Job& job, size_t piece) {
  const ChunkLayout chunks{job.count(piece), node_size_};
  const size_t own = chunks.offset(node_rank_), len = chunks.length(node_rank_), elem = job.elem;
  const size_t first = job.first(piece) + own;
  char* acc = slot(node_rank_, piece) + own * elem;
  if (node_size_ == 1) {  // the node's sum is this rank's value (there are other nodes)
    job.in.copy(first, len, acc);
    return;
  }
  // With one node this is the whole sum, and its last addition divides for an average.
  const int last_divisor = nodes_ == 1 ? job.divisor : 1;
  const size_t block = std::max<size_t>(1, kBlockBytes / elem);
  for (size_t b = 0; b < len; b += block) {
    const size_t n = std::min(block, len - b);
    char* sum = acc + b * elem;
    int added = 0;
    for (int peer = 0; peer < node_size_; ++peer) {
      if (peer == node_rank_) continue;
      const char* theirs = slot(peer, piece) + (own + b) * elem;
      const int div = ++added == node_size_ - 1 ? last_divisor : 1;
      if (added > 1) {
        reduce_sum(job.type, sum, sum, theirs, n, div);
        continue;
      }
      job.in.for_each(first + b, n, [&](const char* mine, size_t i, size_t m) {
        reduce_sum(job.type, sum + i * elem, mine, theirs + i * elem, m, div);
      });
    }
  }
}

void HierAllreduce::start_exchange(const Job& job, size_t piece) {
  const size_t count = job.count(piece), elem = job.elem;
  const ChunkLayout chunks{count, node_size_};
  char* stage = staging(piece);
  if (nodes_ != 2) {
    // One node (a forced path) or the ring between three or more leaders, done at once.
    for (int c = 0; c < node_size_; ++c)
      std::memcpy(stage + chunks.offset(c) * elem, slot(c, piece) + chunks.offset(c) * elem, chunks.length(c) * elem);
    RingOptions ring;
    ring.average_over = world_size_;
    if (nodes_ > 1)
      ring_allreduce(*leaders_, stage, count, job.type, job.divisor > 1 ? ReduceOp::kAverage : ReduceOp::kSum, ring);
    return;
  }
  // Two nodes: the other node's sum arrives in its own chunk layout; ours leaves from the
  // windows it was summed in. Both leaders skip the same empty chunks.
  std::vector<MPI_Request>& requests = requests_[piece % kInFlight];
  requests.clear();
  const int peer = 1 - node_index_;
  const ChunkLayout theirs{count, other_size_};
  for (int c = 0; c < other_size_; ++c) {
    if (theirs.length(c) == 0) continue;
    requests.emplace_back();
    MPI_CHECK(MPI_Irecv(stage + theirs.offset(c) * elem, static_cast<int>(theirs.length(c) * elem), MPI_BYTE, peer,
                        kTag, leaders_comm_, &requests.back()));
  }
  for (int c = 0; c < node_size_; ++c) {
    if (chunks.length(c) == 0) continue;
    requests.emplace_back();
    MPI_CHECK(MPI_Isend(slot(c, piece) + chunks.offset(c) * elem, static_cast<int>(chunks.length(c) * elem), MPI_BYTE,
                        peer, kTag, leaders_comm_, &requests.back()));
  }
}

void HierAllreduce::finish_exchange(const Job& job, size_t piece) {
  const size_t count = job.count(piece), elem = job.elem;
  char* stage = staging(piece);
  char* out = broadcast_area();
  if (nodes_ != 2) {
    std::memcpy(out, stage, count * elem);
    return;
  }
  std::vector<MPI_Request>& requests = requests_[piece % kInFlight];
  MPI_CHECK(MPI_Waitall(static_cast<int>(requests.size()), requests.data(), MPI_STATUSES_IGNORE));
  requests.clear();
  // Node 0's sum plus node 1's, on both leaders, chunk by chunk of our layout.
  const ChunkLayout chunks{count, node_size_};
  for (int c = 0; c < node_size_; ++c) {
    const size_t at = chunks.offset(c) * elem;
    const char* ours = slot(c, piece) + at;
    const char* theirs = stage + at;
    reduce_sum(job.type, out + at, node_index_ == 0 ? ours : theirs, node_index_ == 0 ? theirs : ours, chunks.length(c),
               job.divisor);
  }
}

void HierAllreduce::deliver(const Job& job, size_t piece) {
  const char* result = broadcast_area();
  const size_t first = job.first(piece), count = job.count(piece), elem = job.elem;
  if (job.out) {
    std::memcpy(job.out + first * elem, result, count * elem);
    return;
  }
  const ChunkLayout chunks{count, node_size_};
  const size_t own = chunks.offset(node_rank_);
  job.in.runs(first + own, chunks.length(node_rank_), [&](size_t part, size_t in_part, size_t at, size_t m) {
    (*job.apply)(part, in_part, m, result + (own + at) * elem);
  });
}

}  // namespace roost::comm::detail
