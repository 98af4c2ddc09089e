// roost/core/gpu.h — which GPU (if any) this process uses, without CUDA headers.
//
// Built with CUDA, device_count() asks the runtime; built without it, it is 0. A process
// uses device local_rank % device_count; with no device it runs on CPU and says so once.
#pragma once

#include <string>

namespace roost {

struct DeviceChoice {
  int device = -1;          // CUDA device ordinal, -1 for CPU
  int device_count = 0;     // devices visible to this process
  std::string name;         // "cpu" or the GPU's name
  bool cuda_built = false;  // whether roost was compiled with CUDA
};

int cuda_device_count();  // 0 without CUDA or without a device (never throws)

// Chooses local_rank % device_count and makes it current; CPU when there is none.
DeviceChoice choose_device(int local_rank);

}  // namespace roost
