// node_shared.h — memory that every rank of an MPI communicator maps, for ranks on one node.
// Internal to roost_comm (RingMpiCommunicator::map_shared).
#pragma once

#include <mpi.h>

#include <cstddef>
#include <memory>
#include <vector>

namespace roost::comm::detail {

// Collective. Rank 0 creates a POSIX shared-memory object of `bytes` (its pages reserved up
// front, so a full /dev/shm is a failure here instead of a SIGBUS later), every other rank
// maps it by name, and once all have it rank 0 removes the name. Null on every rank when any
// rank could not map it (ranks on other nodes cannot open the name; a container's small
// /dev/shm cannot hold it). Each rank unmaps its mapping when the last copy of the pointer
// goes, independently of the others. The object exists only once every rank has reached
// the call, and rank 0 first removes objects that such setups left when their rank 0 died
// in between (remove_stale_node_shared).
std::shared_ptr<void> map_node_shared(MPI_Comm comm, size_t bytes);

// Collective over the ranks of one node: an MPI-3 shared window of `bytes` for each rank, on
// pages of its own (first touched, so placed, by its owner, who is the one that writes it),
// with errors returned; `windows[r]` is rank r's part. One passive epoch is opened for the
// window's whole life: MPI_Win_sync then orders the plain loads and stores around each barrier
// (the "unified" memory model of shared windows). Free it with MPI_Win_unlock_all, MPI_Win_free.
MPI_Win allocate_node_windows(MPI_Comm comm, size_t bytes, std::vector<char*>& windows);

}  // namespace roost::comm::detail
