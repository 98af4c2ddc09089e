// roost/sync/shared_tensors.cc — tensors over one shared mapping.
#include "roost/sync/shared_tensors.h"

#include <atomic>

#include "roost/core/error.h"

namespace roost::sync {

std::vector<torch::Tensor> node_shared_copies(const std::vector<torch::Tensor>& like, comm::Communicator& comm) {
  constexpr int64_t kAlign = 64;  // each tensor on a cache line of its own
  std::vector<int64_t> offsets;
  int64_t bytes = 0;
  for (const torch::Tensor& t : like) {
    ROOST_CHECK(t.device().is_cpu(), "shared tensors live in host memory");
    offsets.push_back(bytes);
    bytes += (t.numel() * t.element_size() + kAlign - 1) / kAlign * kAlign;
  }
  std::shared_ptr<void> block = comm.map_shared(static_cast<size_t>(bytes));
  if (!block) return {};
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> out;
  for (size_t i = 0; i < like.size(); ++i) {
    char* at = static_cast<char*>(block.get()) + offsets[i];
    out.push_back(torch::from_blob(
        at, like[i].sizes(), [block](void*) {}, like[i].options().requires_grad(false)));
    if (comm.initializes_shared()) out.back().copy_(like[i]);
  }
  std::atomic_thread_fence(std::memory_order_seq_cst);
  comm.barrier();  // the initializing ranks' values are in before anyone reads them
  std::atomic_thread_fence(std::memory_order_seq_cst);
  return out;
}

}  // namespace roost::sync
