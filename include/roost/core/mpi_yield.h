// roost/core/mpi_yield.h — whether Open MPI should yield the CPU while a rank waits.
//
// Open MPI's progress engine spins while a rank waits in a collective. When the ranks and their
// compute threads already fill every core of a node, that spinning takes the core from the rank
// being waited for: on a 2-core machine with 2 ranks the same-node allreduce (a barrier pair per
// 1 MiB piece) made ranks steal time from each other and cut training throughput by up to half
// (benchmarks/compare_ddp.sh measures roost with and without it). Open MPI turns yielding on by
// itself only when a node holds more ranks than slots, so roost decides before MPI_Init, through
// the documented OMPI_MCA_mpi_yield_when_idle variable; a value the user exported is kept.
#pragma once

#include <string>

namespace roost {

// mode: "auto" (yield when ranks on the node × compute threads per rank fill its cores), "on",
// "off". threads_per_rank 0 means "cores / ranks on the node", which fills the node.
bool mpi_yield_wanted(const std::string& mode, int local_ranks, int threads_per_rank, int cores);

// Before MPI_Init: sets OMPI_MCA_mpi_yield_when_idle=1 when mpi_yield_wanted, unless the variable
// is already set (by the user, or by mpirun on an oversubscribed node). The node's rank count
// comes from the launcher (OMPI_COMM_WORLD_LOCAL_SIZE, else SLURM_NTASKS_PER_NODE, else 1).
// Returns the value in effect: "1", the variable's own value, or "default" (left to Open MPI).
std::string apply_mpi_yield(const std::string& mode, int threads_per_rank);

}  // namespace roost
