// roost/kernels/preprocess.h — CUDA-free host API of the fused preprocessing kernel.
//
// A GpuPreprocessor takes a batch of decoded uint8 HWC images of different sizes, each with
// its ResizePlan, uploads them from pinned host memory on its own copy stream and writes the
// normalized NCHW batch (float32, bfloat16 or float16) in one kernel pass:
// crop → antialiased bilinear resize (same filter as roost/data/resize.h) → flip →
// normalize → layout change. The implementation lives in kernels/ (pImpl), so this header
// compiles with g++ alone; without CUDA, available() is false and run() throws.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "roost/data/image.h"
#include "roost/data/loader.h"
#include "roost/data/transforms.h"

namespace roost::kernels {

enum class OutputType { kFloat32, kBFloat16, kFloat16 };

struct PreprocessOptions {
  int device = 0;
  OutputType output = OutputType::kFloat32;
  bool channels_last = false;  // write NHWC instead of NCHW
  data::Normalization norm;
  // How output rows are cut into thread-block tiles; 0 keeps the built-in default. Tuning
  // knobs for benchmarks/preprocess_bench --sweep, not needed for correctness.
  int tile_target_bytes = 0;         // preferred shared memory per tile
  int max_tile_rows = 0;             // most output rows per tile
  bool largest_tiles_first = false;  // costliest tiles first instead of image order (preprocess_layout.h)
};

class GpuPreprocessor {
 public:
  explicit GpuPreprocessor(const PreprocessOptions& options);
  ~GpuPreprocessor();
  GpuPreprocessor(const GpuPreprocessor&) = delete;
  GpuPreprocessor& operator=(const GpuPreprocessor&) = delete;

  // True when roost was built with CUDA and a device is present.
  static bool available();

  // Preprocesses images[i] with plans[i] into `device_out` (device memory of
  // images.size() × 3 × out_h × out_w elements of the output type; every plan must have the
  // same out_h/out_w). `stream` is a cudaStream_t (nullptr = the default stream); the call
  // returns when the work is enqueued on it, after the upload has been ordered before it.
  void run(const std::vector<const data::Image*>& images, const std::vector<data::ResizePlan>& plans, void* device_out,
           void* stream);

  // run() in two halves, so that the CPU half can run on another thread (a loader's worker)
  // while the training thread drives the GPU. pack() plans the batch and copies what the
  // kernel reads into pinned host memory (from a pool); it is thread-safe, and the images
  // may be freed once it returns. run_packed() uploads a packed batch on the copy stream and
  // launches the kernel on `stream`, as run() does; call it from one thread. A packed batch
  // may be dropped unused; its memory goes back to the pool once its upload has finished.
  // pack() makes the preprocessor's device current on the calling thread and leaves it so
  // (restoring device 0 on a fresh thread would start a context there). run_packed() takes
  // only batches this preprocessor packed.
  std::shared_ptr<data::PreparedBatch> pack(const std::vector<const data::Image*>& images,
                                            const std::vector<data::ResizePlan>& plans) const;
  void run_packed(const std::shared_ptr<data::PreparedBatch>& packed, void* device_out, void* stream);

  // As run(), but stops at uint8 HWC before normalization (out: N × out_h × out_w × 3 bytes
  // on the device), so tests compare with data::apply_plan_u8 exactly.
  void run_u8(const std::vector<const data::Image*>& images, const std::vector<data::ResizePlan>& plans,
              void* device_out, void* stream);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace roost::kernels
