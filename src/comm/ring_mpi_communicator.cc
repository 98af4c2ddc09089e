// ring_mpi_communicator.cc — roost's allreduce over MPI: a shared window for ranks on one node
// (up to a size), the hierarchical allreduce across nodes, else the ring over point-to-point
// messages.
#include "roost/comm/ring_mpi_communicator.h"

#include "hier_allreduce.h"
#include "node_groups.h"
#include "node_shared.h"
#include "reduce.h"
#include "roost/core/error.h"
#include "shm_allreduce.h"

namespace roost::comm {

RingMpiOptions::Path parse_allreduce_path(const std::string& text) {
  using Path = RingMpiOptions::Path;
  for (Path p : {Path::kAuto, Path::kMessages, Path::kSharedMemory, Path::kHierarchical})
    if (text == allreduce_path_name(p)) return p;
  ROOST_USAGE_ERROR("allreduce path must be auto, ring, shm or hier (got '", text, "')");
}

const char* allreduce_path_name(RingMpiOptions::Path path) {
  switch (path) {
    case RingMpiOptions::Path::kAuto: return "auto";
    case RingMpiOptions::Path::kMessages: return "ring";
    case RingMpiOptions::Path::kSharedMemory: return "shm";
    case RingMpiOptions::Path::kHierarchical: return "hier";
  }
  return "?";
}

RingMpiCommunicator::RingMpiCommunicator(MPI_Comm comm, RingMpiOptions options)
    : MpiCommunicator(comm), options_(options) {}

RingMpiCommunicator::~RingMpiCommunicator() = default;

void RingMpiCommunicator::decide_window() {
  using Path = RingMpiOptions::Path;
  if (window_decided_) return;
  // Decided once, collectively, from roost's grouping of ranks into nodes, so every rank has
  // (or lacks) the window for good.
  window_decided_ = true;
  if (options_.path == Path::kMessages || size() == 1) return;
  MPI_Comm node = detail::split_nodes(comm());
  const detail::NodeLayout layout = detail::node_layout(comm(), node);
  MPI_Comm_free(&node);
  const bool one_node = layout.nodes == 1;
  if (options_.path == Path::kHierarchical || (options_.path == Path::kAuto && !one_node && layout.largest > 1)) {
    hier_ = detail::HierAllreduce::create(comm(), options_.hier_piece_bytes);
    return;
  }
  ROOST_CHECK(one_node || options_.path == Path::kAuto, "the shared-memory allreduce needs every rank on one node");
  if (one_node) shm_ = detail::ShmAllreduce::create(comm(), options_.shm_piece_bytes);
}

bool RingMpiCommunicator::use_window(size_t bytes) const {
  return shm_ && (options_.path == RingMpiOptions::Path::kSharedMemory || bytes <= options_.shm_max_bytes);
}

void RingMpiCommunicator::allreduce(void* data, size_t count, DType type, ReduceOp op) {
  ROOST_CHECK(detail::reduction_supported(type, op), reduce_op_name(op), " of ", dtype_name(type), " is not defined");
  decide_window();
  if (use_window(count * dtype_size(type))) {
    last_path_ = "shared-memory";
    shm_->allreduce(data, count, type, op);
  } else if (hier_) {
    last_path_ = "hierarchical";
    hier_->allreduce(data, count, type, op);
  } else {
    last_path_ = "messages";
    ring_allreduce(*this, data, count, type, op, options_.ring, &scratch_);
  }
}

void RingMpiCommunicator::allreduce_parts(const std::vector<Part>& parts, void* out, DType type, ReduceOp op) {
  ROOST_CHECK(detail::reduction_supported(type, op), reduce_op_name(op), " of ", dtype_name(type), " is not defined");
  decide_window();
  size_t count = 0;
  for (const Part& p : parts) count += p.count;
  if (use_window(count * dtype_size(type))) {
    last_path_ = "shared-memory";
    shm_->allreduce_parts(parts, out, type, op);
  } else if (hier_) {
    last_path_ = "hierarchical";
    hier_->allreduce_parts(parts, out, type, op);
  } else {
    Communicator::allreduce_parts(parts, out, type, op);  // concatenate, then the ring
  }
}

std::shared_ptr<void> RingMpiCommunicator::map_shared(size_t bytes) {
  decide_window();
  if (shm_ && options_.path != RingMpiOptions::Path::kMessages) return detail::map_node_shared(comm(), bytes);
  if (hier_) return detail::map_node_shared(hier_->node_comm(), bytes);
  return nullptr;
}

bool RingMpiCommunicator::initializes_shared() const { return hier_ ? hier_->node_rank() == 0 : rank() == 0; }

void RingMpiCommunicator::reduce_apply(const std::vector<Part>& parts, DType type, ReduceOp op, const ApplyFn& apply) {
  ROOST_CHECK(detail::reduction_supported(type, op), reduce_op_name(op), " of ", dtype_name(type), " is not defined");
  decide_window();
  ROOST_CHECK(shm_ || hier_ || size() == 1,
              "reduce_apply needs every rank on one node or the hierarchical path (shared memory)");
  if (shm_) {
    last_path_ = "shared-memory";
    shm_->reduce_apply(parts, type, op, apply);
    return;
  }
  if (hier_) {
    last_path_ = "hierarchical";
    hier_->reduce_apply(parts, type, op, apply);
    return;
  }
  last_path_ = "shared-memory";
  for (size_t i = 0; i < parts.size(); ++i)  // one rank: its own values are the result
    if (parts[i].count) apply(i, 0, parts[i].count, parts[i].data);
}

}  // namespace roost::comm
