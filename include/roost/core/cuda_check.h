// roost/core/cuda_check.h — CUDA_CHECK and NCCL_CHECK for files compiled with CUDA.
// Include only from translation units built when ROOST_WITH_CUDA is defined.
#pragma once

#include <cuda_runtime.h>

#include <string>

#include "roost/core/error.h"

#define CUDA_CHECK(call)                                                                              \
  do {                                                                                                \
    cudaError_t roost_cuda_rc_ = (call);                                                              \
    if (roost_cuda_rc_ != cudaSuccess)                                                                \
      throw ::roost::Error(__FILE__, __LINE__,                                                        \
                           std::string(#call " failed: ") + cudaGetErrorName(roost_cuda_rc_) + ": " + \
                               cudaGetErrorString(roost_cuda_rc_));                                   \
  } while (0)

// After a kernel launch: launch-configuration errors surface here, not at the next sync.
#define CUDA_CHECK_LAUNCH() CUDA_CHECK(cudaGetLastError())

#ifdef ROOST_WITH_NCCL
#include <nccl.h>
#define NCCL_CHECK(call)                                                                                             \
  do {                                                                                                               \
    ncclResult_t roost_nccl_rc_ = (call);                                                                            \
    if (roost_nccl_rc_ != ncclSuccess)                                                                               \
      throw ::roost::Error(__FILE__, __LINE__, std::string(#call " failed: ") + ncclGetErrorString(roost_nccl_rc_)); \
  } while (0)
#endif
