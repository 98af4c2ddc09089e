// kernels/fused_sgd_stub.cc — the fused SGD step for builds without CUDA: available() is
// false, and building a plan or launching a kernel raises an error that says why. Callers
// (roost::train::Sgd) check fused_sgd_available() first and take their other paths.
#include "roost/core/error.h"
#include "roost/kernels/fused_sgd.h"

namespace roost::kernels {

bool fused_sgd_available() { return false; }

struct FusedSgdPlan::Impl {};

FusedSgdPlan::FusedSgdPlan(const std::vector<SgdTensor>& /*tensors*/, void* /*stream*/) {
  ROOST_THROW("roost was built without CUDA");
}

FusedSgdPlan::~FusedSgdPlan() = default;

size_t FusedSgdPlan::tensors() const { return 0; }

size_t FusedSgdPlan::chunks() const { return 0; }

void FusedSgdPlan::step(const SgdHyper& /*hyper*/, const SgdDeviceScalars& /*scalars*/, void* /*stream*/) const {
  ROOST_THROW("roost was built without CUDA");
}

void FusedSgdPlan::find_non_finite(float* /*found_inf*/, void* /*stream*/) const {
  ROOST_THROW("roost was built without CUDA");
}

void update_loss_scale(float* /*scale*/, int32_t* /*growth_tracker*/, float* /*inv_scale*/, const float* /*found_inf*/,
                       int32_t /*growth_interval*/, void* /*stream*/, float /*growth*/, float /*backoff*/) {
  ROOST_THROW("roost was built without CUDA");
}

}  // namespace roost::kernels
