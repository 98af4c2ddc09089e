// batch_source.cc — CPU and GPU preprocessing paths into device tensors.
#include "roost/train/batch_source.h"

#include "roost/core/error.h"

namespace roost::train {

namespace {
std::vector<const data::Image*> image_pointers(const data::Batch& batch) {
  std::vector<const data::Image*> images;
  for (const auto& image : batch.images) images.push_back(&image);
  return images;
}

kernels::OutputType output_type(torch::ScalarType t) {
  if (t == torch::kBFloat16) return kernels::OutputType::kBFloat16;
  if (t == torch::kFloat16) return kernels::OutputType::kFloat16;
  return kernels::OutputType::kFloat32;
}
}  // namespace

BatchSource::BatchSource(torch::Device device, bool gpu_preprocess, bool channels_last, torch::ScalarType input_dtype,
                         int image_size)
    : device_(device), channels_last_(channels_last), input_dtype_(input_dtype), image_size_(image_size) {
  if (gpu_preprocess) {
    ROOST_CHECK(device.is_cuda(), "GPU preprocessing needs a CUDA device");
    kernels::PreprocessOptions options;
    options.device = device.index();
    options.output = output_type(input_dtype);
    options.channels_last = channels_last;
    gpu_ = std::make_unique<kernels::GpuPreprocessor>(options);
  }
}

BatchSource::~BatchSource() = default;

std::function<void(data::Batch&)> BatchSource::pack_on_workers() const {
  if (!gpu_) return nullptr;
  const kernels::GpuPreprocessor* gpu = gpu_.get();
  return [gpu](data::Batch& batch) {
    if (batch.size == 0) return;
    batch.prepared = gpu->pack(image_pointers(batch), batch.plans);
    std::vector<data::Image>().swap(batch.images);  // the packed copy is all the kernel reads
  };
}

std::pair<torch::Tensor, torch::Tensor> BatchSource::to_device(data::Batch& batch) {
  const int64_t n = batch.size;
  const int64_t s = image_size_;
  // Host→device copies go through pinned memory and are non-blocking: a copy from pageable
  // memory would make the host wait for every GPU kernel queued before it, so the host could
  // never prepare batch k+1 while the GPU trains on batch k.
  auto upload = [&](torch::Tensor host, torch::ScalarType type) {
    if (!device_.is_cuda()) return host.to(type);
    return host.pin_memory().to(device_, type, /*non_blocking=*/true);
  };
  torch::Tensor labels = upload(torch::from_blob(batch.labels.data(), {n}, torch::kInt64), torch::kInt64);
  auto format = channels_last_ ? torch::MemoryFormat::ChannelsLast : torch::MemoryFormat::Contiguous;
  if (gpu_) {
    torch::Tensor inputs =
        torch::empty({n, 3, s, s}, torch::TensorOptions().device(device_).dtype(input_dtype_), format);
    // nullptr: the legacy default stream, the one libtorch computes on by default.
    if (n > 0 && batch.prepared) {
      gpu_->run_packed(batch.prepared, inputs.data_ptr(), nullptr);
      batch.prepared.reset();  // its pinned memory returns to the pool once uploaded
    } else if (n > 0) {
      gpu_->run(image_pointers(batch), batch.plans, inputs.data_ptr(), nullptr);
    }
    return {inputs, labels};
  }
  torch::Tensor inputs = torch::from_blob(batch.data.data(), {n, 3, s, s}, torch::kFloat32);
  inputs = upload(inputs, input_dtype_);
  if (channels_last_) inputs = inputs.contiguous(format);
  return {inputs, labels};
}

}  // namespace roost::train
