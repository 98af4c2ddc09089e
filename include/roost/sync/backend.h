// roost/sync/backend.h — which transport carries a job's gradients, decided in one place.
//
// NCCL on device memory when every rank has a GPU of its own and roost was built with NCCL.
// Otherwise roost's ring allreduce over MPI on host memory (RingMpiCommunicator), which
// itself sums through memory all ranks map when they share one node and over point-to-point
// messages when they do not (ring_mpi_communicator.h). Where a node runs more ranks than it
// has GPUs, no rank may take NCCL, so the choice is agreed over the whole job: every rank
// must join the same collectives. The synchronizer's negotiation runs on an MPI
// communicator of its own, so its messages never meet the allreduces'.
#pragma once

#include <mpi.h>

#include <memory>
#include <string>

#include "roost/comm/communicator.h"
#include "roost/comm/mpi_scope.h"
#include "roost/gpu/comm_stream.h"

namespace roost::sync {

// Where this rank runs.
struct Placement {
  bool on_gpu = false;  // its tensors live on a GPU
  int gpu = -1;         // that GPU's index
  int local_size = 1;   // ranks on this node
  int gpu_count = 0;    // GPUs on this node
};

class GradientBackend {
 public:
  // Collective over `host` (every rank of the job, on `world`). `host_path`: the path the
  // allreduce over MPI takes (auto, ring, shm or hier; RingMpiOptions::Path).
  GradientBackend(MPI_Comm world, comm::Communicator& host, const Placement& placement,
                  const std::string& host_path = "auto");
  ~GradientBackend();
  GradientBackend(const GradientBackend&) = delete;
  GradientBackend& operator=(const GradientBackend&) = delete;

  comm::Communicator& reduce() { return device_ ? *device_ : *ring_; }  // the fused allreduces
  comm::Communicator& negotiate() { return *negotiation_; }             // rank 0's coordination
  // The ring over MPI (host memory; its map_shared/reduce_apply serve the shared update),
  // null when gradients travel over NCCL.
  comm::Communicator* host_ring() { return ring_.get(); }
  bool on_device() const { return device_ != nullptr; }
  // NCCL's own stream (comm_stream.h), null when gradients travel over MPI.
  const gpu::CommStream* device_stream() const { return stream_.get(); }
  std::string name() const { return device_ ? "nccl" : "ring allreduce over mpi"; }

 private:
  MpiCommDup reduce_dup_, negotiate_dup_;
  std::unique_ptr<gpu::CommStream> stream_;  // before device_: it outlives the communicator
  std::unique_ptr<comm::Communicator> device_, ring_, negotiation_;
};

}  // namespace roost::sync
