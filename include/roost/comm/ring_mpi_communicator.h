// roost/comm/ring_mpi_communicator.h — MPI transport, roost's own allreduce.
//
// MpiCommunicator::allreduce hands the whole operation to MPI_Allreduce; this subclass runs
// roost's reduction instead, which also covers float16 and bfloat16 (MPI has no such types)
// with the same rounding as every other backend:
//   - messages: ring_allreduce over MPI point-to-point (any placement of ranks);
//   - shared memory: when every rank is on one node, the chunks are summed straight out of
//     the peers' memory through an MPI-3 shared window (see src/comm/shm_allreduce.h); by
//     default for buffers up to 64 MiB, where it is the fastest path measured;
//   - hierarchical: on several nodes, summed inside each node through a shared window, then
//     exchanged between one leader per node, then handed back inside the node (see
//     src/comm/hier_allreduce.h); by default whenever there are several nodes and some node
//     runs more than one rank.
// Every way each element is summed by one rank (per node, for the hierarchical path's last
// addition) in a fixed order and copied, so all ranks end bitwise identical. Broadcast,
// allgather and barrier stay MPI's. Which ranks form a node: src/comm/node_groups.h (with the
// ROOST_NODE_SPLIT test hook).
#pragma once

#include <memory>
#include <string>

#include "roost/comm/mpi_communicator.h"
#include "roost/comm/ring.h"

namespace roost::comm {

namespace detail {
class ShmAllreduce;
class HierAllreduce;
}  // namespace detail

struct RingMpiOptions {
  enum class Path {
    kAuto,          // one node: shared memory for buffers up to shm_max_bytes, messages
                    // above; several nodes, some with more than one rank: hierarchical;
                    // else (one rank per node) messages
    kMessages,      // always the ring over point-to-point messages
    kSharedMemory,  // always shared memory; an error when the ranks span several nodes
    kHierarchical,  // always hierarchical (on one node: reduce and broadcast through the
                    // leader's window, with no exchange)
  };
  Path path = Path::kAuto;
  RingOptions ring;
  // The shared-memory path works through the buffer in pieces of this many bytes (each rank's
  // window is twice this size); pieces small enough to stay in the last-level cache move data
  // between ranks without a round trip to memory.
  size_t shm_piece_bytes = size_t(1) << 20;
  // Largest buffer kAuto sends through shared memory. Beyond the caches both paths are bound
  // by memory bandwidth, and there the ring's single kernel copy per message (CMA) measured
  // as fast or faster whenever the two cores did not share a last-level cache.
  size_t shm_max_bytes = size_t(64) << 20;
  // The hierarchical path's piece: the unit that is reduced inside a node, exchanged between
  // the leaders (two pieces in flight) and broadcast inside the node.
  size_t hier_piece_bytes = size_t(1) << 20;
};

// "auto", "ring", "shm" or "hier" as a Path (an error naming the text otherwise), and back.
RingMpiOptions::Path parse_allreduce_path(const std::string& text);
const char* allreduce_path_name(RingMpiOptions::Path path);

class RingMpiCommunicator : public MpiCommunicator {
 public:
  explicit RingMpiCommunicator(MPI_Comm comm, RingMpiOptions options = {});
  ~RingMpiCommunicator() override;

  std::string backend() const override { return "mpi-ring"; }
  // Collective, with the same count and type on every rank (so every rank takes the same
  // path). The first call also maps the shared window, on all ranks at once.
  void allreduce(void* data, size_t count, DType type, ReduceOp op) override;
  void allreduce_parts(const std::vector<Part>& parts, void* out, DType type, ReduceOp op) override;
  // Where every rank shares one node (the shared-memory path is available): a POSIX
  // shared-memory object all of them map. On the hierarchical path: one such object per
  // node, mapped by that node's ranks. Else null.
  std::shared_ptr<void> map_shared(size_t bytes) override;
  bool initializes_shared() const override;
  // Through the shared window whatever the buffer's size (the applies must reach memory
  // every rank shares), or on the hierarchical path once per node; an error where neither
  // applies.
  void reduce_apply(const std::vector<Part>& parts, DType type, ReduceOp op, const ApplyFn& apply) override;

  const RingMpiOptions& options() const { return options_; }
  // The path the last allreduce took: "messages", "shared-memory" or "hierarchical"
  // ("undecided" before any).
  const char* path() const { return last_path_; }

 private:
  void decide_window();
  bool use_window(size_t bytes) const;

  RingMpiOptions options_;
  RingScratch scratch_;
  bool window_decided_ = false;
  std::unique_ptr<detail::ShmAllreduce> shm_;    // null: not one node, or not asked for
  std::unique_ptr<detail::HierAllreduce> hier_;  // null: one node, or not asked for
  const char* last_path_ = "undecided";
};

}  // namespace roost::comm
