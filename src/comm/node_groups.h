// node_groups.h — which ranks roost treats as one node. Internal to roost_comm.
//
// A node is the set of ranks that can share memory (MPI_COMM_TYPE_SHARED). The test hook
// ROOST_NODE_SPLIT=K cuts that further: consecutive groups of K ranks of the communicator
// become nodes of their own (intersected with the real nodes), so the multi-node paths (the
// hierarchical allreduce, a shared update per node) run and are tested on one machine. It is
// read here and nowhere else; unset or 0 means the real nodes.
#pragma once

#include <mpi.h>

namespace roost::comm::detail {

// ROOST_NODE_SPLIT's value (0 when unset); an error naming the variable when it is not a
// non-negative integer.
int node_split_from_env();

// Collective over `comm`: a new communicator of the ranks on this rank's node, in comm's rank
// order, with MPI_ERRORS_RETURN. The caller frees it.
MPI_Comm split_nodes(MPI_Comm comm);

// How `comm`'s ranks fall into nodes, as every rank sees it. Collective.
struct NodeLayout {
  int nodes = 1;    // how many
  int largest = 1;  // ranks on the most populated node
  int node_size = 1, node_rank = 0;
};
NodeLayout node_layout(MPI_Comm comm, MPI_Comm node);

}  // namespace roost::comm::detail
