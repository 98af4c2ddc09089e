// node_groups.cc — roost's grouping of ranks into nodes (with the ROOST_NODE_SPLIT test hook).
#include "node_groups.h"

#include <cstdlib>
#include <string>

#include "roost/comm/mpi_scope.h"
#include "roost/core/error.h"

namespace roost::comm::detail {

int node_split_from_env() {
  const char* value = std::getenv("ROOST_NODE_SPLIT");
  if (value == nullptr || *value == '\0') return 0;
  char* end = nullptr;
  const long k = std::strtol(value, &end, 10);
  ROOST_CHECK(*end == '\0' && k >= 0 && k < (1L << 30), "ROOST_NODE_SPLIT must be a number of ranks >= 0 (got '", value,
              "')");
  return static_cast<int>(k);
}

MPI_Comm split_nodes(MPI_Comm comm) {
  const int split = node_split_from_env();
  int rank = 0;
  MPI_CHECK(MPI_Comm_rank(comm, &rank));
  MPI_Comm shared = MPI_COMM_NULL;
  MPI_CHECK(MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &shared));
  MPI_Comm node = shared;
  if (split > 0) {
    // Ranks of one real node that fall into one group of `split` consecutive ranks.
    const int rc = MPI_Comm_split(shared, rank / split, rank, &node);
    MPI_Comm_free(&shared);
    MPI_CHECK(rc);
  }
  MPI_CHECK(MPI_Comm_set_errhandler(node, MPI_ERRORS_RETURN));
  return node;
}

NodeLayout node_layout(MPI_Comm comm, MPI_Comm node) {
  NodeLayout layout;
  MPI_CHECK(MPI_Comm_size(node, &layout.node_size));
  MPI_CHECK(MPI_Comm_rank(node, &layout.node_rank));
  const int leader = layout.node_rank == 0 ? 1 : 0;
  MPI_CHECK(MPI_Allreduce(&leader, &layout.nodes, 1, MPI_INT, MPI_SUM, comm));
  MPI_CHECK(MPI_Allreduce(&layout.node_size, &layout.largest, 1, MPI_INT, MPI_MAX, comm));
  return layout;
}

}  // namespace roost::comm::detail
