// roost/train/batch_source.h — turns the loader's batches into model inputs on the rank's device:
// the CPU reference path (normalized floats built by the loader, copied over) or the GPU
// path (decoded uint8 images preprocessed by the fused CUDA kernel on the device).
#pragma once

#include <torch/torch.h>

#include <functional>
#include <memory>
#include <utility>

#include "roost/data/loader.h"
#include "roost/kernels/preprocess.h"

namespace roost::train {

class BatchSource {
 public:
  // gpu_preprocess requires a CUDA device; input_dtype is float32, bfloat16 or float16.
  BatchSource(torch::Device device, bool gpu_preprocess, bool channels_last, torch::ScalarType input_dtype,
              int image_size);
  ~BatchSource();

  bool gpu_preprocess() const { return gpu_ != nullptr; }
  // For LoaderOptions::prepare on the GPU path: packs each decoded batch for the kernel on
  // the loader's worker thread and frees its images, so that to_device() only uploads and
  // launches. Empty on the CPU path. The source must outlive the loaders that use it.
  std::function<void(data::Batch&)> pack_on_workers() const;
  // Inputs [n, 3, S, S] and labels [n] on the device. `batch` must outlive their use.
  std::pair<torch::Tensor, torch::Tensor> to_device(data::Batch& batch);

 private:
  torch::Device device_;
  bool channels_last_;
  torch::ScalarType input_dtype_;
  int image_size_;
  std::unique_ptr<kernels::GpuPreprocessor> gpu_;
};

}  // namespace roost::train
