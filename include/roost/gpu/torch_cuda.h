// roost/gpu/torch_cuda.h — libtorch's CUDA stream state for code compiled without c10/cuda
// headers (CUDA kernels, the NCCL communicator, torch-free files).
//
// Built against a CUDA libtorch (ROOST_TORCH_CUDA), these ask c10::cuda; otherwise there are
// no CUDA tensors, torch_has_cuda() is false and the stream is nullptr (the legacy default
// stream, which is also what torch uses until a stream guard says otherwise).
#pragma once

namespace roost::gpu {

// Whether roost was compiled against a libtorch built with CUDA.
bool torch_has_cuda();

// libtorch's current stream on the current device, as a cudaStream_t; nullptr without CUDA.
void* current_stream();

}  // namespace roost::gpu
