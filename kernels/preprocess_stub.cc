// kernels/preprocess_stub.cc — GpuPreprocessor for builds without CUDA: available() is
// false, and running one raises an error that says why. Callers check
// available() first and take the CPU reference path (data::apply_plan_normalized).
#include "preprocess_timing.h"
#include "roost/core/error.h"
#include "roost/kernels/preprocess.h"

namespace roost::kernels {

struct GpuPreprocessor::Impl {};

// Construction succeeds so that a caller may hold one unconditionally; using it throws.
GpuPreprocessor::GpuPreprocessor(const PreprocessOptions& /*options*/) : impl_(std::make_unique<Impl>()) {}

GpuPreprocessor::~GpuPreprocessor() = default;

bool GpuPreprocessor::available() { return false; }

void GpuPreprocessor::run(const std::vector<const data::Image*>& /*images*/,
                          const std::vector<data::ResizePlan>& /*plans*/, void* /*device_out*/, void* /*stream*/) {
  ROOST_THROW("roost was built without CUDA");
}

std::shared_ptr<data::PreparedBatch> GpuPreprocessor::pack(const std::vector<const data::Image*>& /*images*/,
                                                           const std::vector<data::ResizePlan>& /*plans*/) const {
  ROOST_THROW("roost was built without CUDA");
}

void GpuPreprocessor::run_packed(const std::shared_ptr<data::PreparedBatch>& /*packed*/, void* /*device_out*/,
                                 void* /*stream*/) {
  ROOST_THROW("roost was built without CUDA");
}

void GpuPreprocessor::run_u8(const std::vector<const data::Image*>& /*images*/,
                             const std::vector<data::ResizePlan>& /*plans*/, void* /*device_out*/, void* /*stream*/) {
  ROOST_THROW("roost was built without CUDA");
}

KernelTiming time_preprocess_kernel(const PreprocessOptions& /*options*/,
                                    const std::vector<const data::Image*>& /*images*/,
                                    const std::vector<data::ResizePlan>& /*plans*/, void* /*device_out*/,
                                    int /*warmup*/, int /*reps*/) {
  ROOST_THROW("roost was built without CUDA");
}

}  // namespace roost::kernels
