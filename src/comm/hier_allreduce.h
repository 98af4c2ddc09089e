// hier_allreduce.h — allreduce for ranks on several nodes: inside each node through a shared
// window, between the nodes by one leader each. Internal to roost_comm (RingMpiCommunicator).
//
// Why: across nodes the link is what is scarce. The flat ring over n ranks moves 2(n-1)/n of
// the buffer over each of its links, and with several ranks per node some of those links
// cross the network: with two nodes of two ranks each, 1.5 buffers go each way over the wire.
// Summing inside the node first (in memory), exchanging one sum per node between the node
// leaders and handing the result back inside the node puts one buffer each way on the wire
// (two nodes), and the ranks of a node move their data with loads and stores, not messages.
//
// The buffer goes in pieces of piece_bytes. For piece k, on every node:
//   1. reduce inside the node, as ShmAllreduce's steps 1 and 2 do: each rank publishes the
//      chunks of the piece that the node's other ranks own in its window slot k mod kSlots;
//      barrier; the owner of chunk c sums it (its own value first, then the node's other
//      ranks in node-rank order) into its own slot; barrier. The node's sum of piece k now
//      lies in the windows, each chunk in its owner's;
//   2. the leader (node rank 0) exchanges the node's sum with the other leaders: with two
//      nodes straight with the other leader (MPI_Isend from the peers' windows, one message
//      per chunk, and MPI_Irecv of the other node's sum), left in flight; with more nodes the
//      ring (ring_allreduce) between the leaders, on a copy of the node's sum, at once;
//   3. kInFlight steps later the leader waits for that exchange and puts the piece's result
//      in its broadcast area (two nodes: node 0's sum + node 1's sum, an average divided in
//      that same addition); after the next barrier every rank of the node copies it from
//      there (reduce_apply: applies its own chunk of it).
// So a piece's exchange is on the wire while the node reduces the next pieces and delivers
// the previous one.
//
// Exact: every element of the result is computed by one rank of each node from the same
// node sums in the same order (node sums: owner first, then node-rank order; across nodes:
// node order for two nodes, the ring's order for more; nodes are ordered by their lowest
// rank) and copied from there, so every rank of the job ends bitwise identical.
#pragma once

#include <mpi.h>

#include <cstddef>
#include <memory>
#include <vector>

#include "parts_view.h"
#include "roost/comm/communicator.h"

namespace roost::comm {
class MpiCommunicator;
}

namespace roost::comm::detail {

class HierAllreduce {
 public:
  // Collective over `comm`: roost's nodes (split_nodes) and a leader per node.
  static std::unique_ptr<HierAllreduce> create(MPI_Comm comm, size_t piece_bytes);
  ~HierAllreduce();
  HierAllreduce(const HierAllreduce&) = delete;
  HierAllreduce& operator=(const HierAllreduce&) = delete;

  void allreduce(void* data, size_t count, DType type, ReduceOp op);
  void allreduce_parts(const std::vector<Communicator::Part>& parts, void* out, DType type, ReduceOp op);
  // Communicator::reduce_apply with the result handed out once per node: each rank of a
  // node applies its chunk of every piece (for memory the node's ranks share).
  void reduce_apply(const std::vector<Communicator::Part>& parts, DType type, ReduceOp op,
                    const Communicator::ApplyFn& apply);

  int nodes() const { return nodes_; }
  int node_rank() const { return node_rank_; }
  MPI_Comm node_comm() const { return node_; }

  static constexpr size_t kInFlight = 2;           // exchanges a leader keeps on the wire
  static constexpr size_t kSlots = kInFlight + 1;  // window slots a piece's node sum rotates through

 private:
  struct Job;  // one call: its input, output and piece geometry
  HierAllreduce(MPI_Comm comm, MPI_Comm node, size_t piece_bytes);
  void build_leaders(MPI_Comm comm);
  void run(const Job& job);
  void sync();  // barrier of the node, with the memory-model calls around it
  char* slot(int node_rank, size_t piece) const;
  char* broadcast_area() const { return windows_[0] + kSlots * piece_bytes_; }
  char* staging(size_t piece) { return staging_.data() + (piece % kInFlight) * piece_bytes_; }
  void publish(const Job& job, size_t piece);
  void reduce_own(const Job& job, size_t piece);
  void start_exchange(const Job& job, size_t piece);   // leader
  void finish_exchange(const Job& job, size_t piece);  // leader
  void deliver(const Job& job, size_t piece);

  int world_size_ = 1, node_rank_ = 0, node_size_ = 1;
  int nodes_ = 1, node_index_ = 0, other_size_ = 0;  // other_size_: the other node's ranks (two nodes)
  size_t piece_bytes_;
  MPI_Comm node_ = MPI_COMM_NULL, leaders_comm_ = MPI_COMM_NULL;
  std::unique_ptr<MpiCommunicator> leaders_;  // leaders only
  MPI_Win win_ = MPI_WIN_NULL;
  std::vector<char*> windows_;  // the node's windows, mapped into this process
  std::vector<char> staging_;   // leader: the other node's sums (or the ring's buffer), kInFlight pieces
  std::vector<MPI_Request> requests_[kInFlight];
};

}  // namespace roost::comm::detail
