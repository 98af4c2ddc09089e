// roost/core/gpu.cc — device selection; the CUDA runtime is used only when built with it.
#include "roost/core/gpu.h"

#ifdef ROOST_WITH_CUDA
#include "roost/core/cuda_check.h"
#endif

namespace roost {

int cuda_device_count() {
#ifdef ROOST_WITH_CUDA
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no device" error
    return 0;
  }
  return count;
#else
  return 0;
#endif
}

DeviceChoice choose_device(int local_rank) {
  DeviceChoice choice;
#ifdef ROOST_WITH_CUDA
  choice.cuda_built = true;
  choice.device_count = cuda_device_count();
  if (choice.device_count > 0) {
    choice.device = local_rank % choice.device_count;
    CUDA_CHECK(cudaSetDevice(choice.device));
    cudaDeviceProp prop{};
    CUDA_CHECK(cudaGetDeviceProperties(&prop, choice.device));
    choice.name = prop.name;
    return choice;
  }
#endif
  (void)local_rank;
  choice.name = "cpu";
  return choice;
}

}  // namespace roost
