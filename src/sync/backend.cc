// roost/sync/backend.cc — the choice between NCCL and the ring over MPI, agreed by every rank.
#include "roost/sync/backend.h"

#include "roost/comm/mpi_communicator.h"
#include "roost/comm/ring_mpi_communicator.h"
#include "roost/core/log.h"
#ifdef ROOST_WITH_NCCL
#include "roost/comm/nccl_communicator.h"
#endif

namespace roost::sync {

#ifdef ROOST_WITH_NCCL
namespace {
// Whether every rank can take NCCL: each needs a GPU of its own. Collective.
bool all_ranks_own_a_gpu(comm::Communicator& host, const Placement& placement) {
  double sharing = placement.on_gpu && placement.local_size > placement.gpu_count ? 1.0 : 0.0;
  host.allreduce(&sharing, 1, comm::DType::kFloat64, comm::ReduceOp::kSum);
  if (placement.on_gpu && sharing > 0)
    log_info("a node runs more ranks than it has GPUs (this one: ", placement.local_size, " rank(s), ",
             placement.gpu_count,
             " GPU(s)): NCCL needs one GPU per rank, so gradients go over "
             "MPI through host memory");
  return sharing == 0;
}
}  // namespace
#endif

GradientBackend::GradientBackend(MPI_Comm world, comm::Communicator& host, const Placement& placement,
                                 const std::string& host_path)
    : reduce_dup_(world), negotiate_dup_(world) {
#ifdef ROOST_WITH_NCCL
  // Every rank takes part in the agreement, GPU or not: the allreduce is collective.
  if (all_ranks_own_a_gpu(host, placement) && placement.on_gpu) {
    // NCCL on a stream of its own, so that allreduces run while backward goes on.
    stream_ = std::make_unique<gpu::CommStream>();
    device_ = std::make_unique<comm::NcclCommunicator>(world, placement.gpu, stream_->stream());
  }
#else
  (void)host, (void)placement;
#endif
  comm::RingMpiOptions ring_options;
  ring_options.path = comm::parse_allreduce_path(host_path);
  if (!device_) ring_ = std::make_unique<comm::RingMpiCommunicator>(reduce_dup_.get(), ring_options);
  negotiation_ = std::make_unique<comm::MpiCommunicator>(negotiate_dup_.get());
}

GradientBackend::~GradientBackend() = default;

}  // namespace roost::sync
