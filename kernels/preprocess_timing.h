// kernels/preprocess_timing.h — a measuring hook for benchmarks/preprocess_bench.cc, kept
// out of the public header: it uploads one batch once and times the fused kernel alone,
// launch after launch over the same device data, so the figure excludes packing and the
// host-to-device copy that GpuPreprocessor::run() overlaps with it.
#pragma once

#include <vector>

#include "roost/kernels/preprocess.h"

namespace roost::kernels {

struct KernelTiming {
  std::vector<float> milliseconds;  // one entry per sample: CUDA-event time per launch
  size_t input_bytes = 0;           // source bytes the kernel must read (the plans' needed rectangles)
  size_t output_bytes = 0;          // bytes the kernel writes
  int tiles = 0;                    // thread blocks per launch
  int shared_bytes = 0;             // dynamic shared memory per block
};

// Runs `warmup` untimed launches, then `reps` timed samples of back-to-back launches,
// writing into device_out (as run()).
KernelTiming time_preprocess_kernel(const PreprocessOptions& options, const std::vector<const data::Image*>& images,
                                    const std::vector<data::ResizePlan>& plans, void* device_out, int warmup, int reps);

}  // namespace roost::kernels
