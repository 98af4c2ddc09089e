// roost/gpu/torch_cuda.cc — libtorch's CUDA stream state (see torch_cuda.h).
#include "roost/gpu/torch_cuda.h"

#ifdef ROOST_TORCH_CUDA
#include <c10/cuda/CUDAStream.h>
#endif

namespace roost::gpu {

#ifdef ROOST_TORCH_CUDA
bool torch_has_cuda() { return true; }

void* current_stream() { return c10::cuda::getCurrentCUDAStream().stream(); }
#else
bool torch_has_cuda() { return false; }

void* current_stream() { return nullptr; }
#endif

}  // namespace roost::gpu
