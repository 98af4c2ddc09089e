// kernels/preprocess.cu — GpuPreprocessor: the host side of the fused preprocessing kernel.
//
// A batch goes through one of two slots, used in turn. Each slot owns a pinned host buffer
// and a device buffer (both grow-only) and two events: `uploaded` (its copy finished, so the
// pinned buffer may be rewritten) and `consumed` (the kernel that read its device buffer
// finished, so the next upload may overwrite it). With two slots the host packs batch k+1
// while batch k is still being copied or processed. The copy runs on our own stream; the
// caller's compute stream waits for it through an event, so run() never blocks the GPU.
#include <cuda_runtime.h>

#include <algorithm>
#include <utility>

#include "preprocess_impl.cuh"
#include "preprocess_layout.h"
#include "preprocess_timing.h"
#include "roost/core/cuda_check.h"
#include "roost/core/error.h"
#include "roost/kernels/preprocess.h"

namespace roost::kernels {

namespace {

using detail::BatchPlan;

// --- RAII handles. Destructors never throw: errors there are dropped on purpose. ---------

class Stream {
 public:
  Stream() { CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking)); }
  ~Stream() { cudaStreamDestroy(stream_); }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  cudaStream_t get() const { return stream_; }

 private:
  cudaStream_t stream_ = nullptr;
};

class Event {
 public:
  explicit Event(unsigned flags = cudaEventDisableTiming) {
    CUDA_CHECK(cudaEventCreateWithFlags(&event_, flags));
  }
  ~Event() { cudaEventDestroy(event_); }
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  cudaEvent_t get() const { return event_; }

 private:
  cudaEvent_t event_ = nullptr;
};

// Grow-only buffer; Alloc/Free are cudaMallocHost/cudaFreeHost or cudaMalloc/cudaFree.
template <cudaError_t (*Alloc)(void**, size_t), cudaError_t (*Free)(void*)>
class Buffer {
 public:
  Buffer() = default;
  ~Buffer() { release(); }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  // Callers make sure no pending copy or kernel still uses the old allocation.
  void reserve(size_t bytes) {
    if (bytes <= size_) return;
    release();
    const size_t grown = bytes + bytes / 4;  // headroom: batches vary a little in size
    CUDA_CHECK(Alloc(&data_, grown));
    size_ = grown;
  }
  uint8_t* data() const { return static_cast<uint8_t*>(data_); }

 private:
  void release() {
    if (data_) Free(data_);
    data_ = nullptr;
    size_ = 0;
  }
  void* data_ = nullptr;
  size_t size_ = 0;
};

cudaError_t pinned_alloc(void** p, size_t n) { return cudaMallocHost(p, n); }
cudaError_t device_alloc(void** p, size_t n) { return cudaMalloc(p, n); }
using PinnedBuffer = Buffer<pinned_alloc, cudaFreeHost>;
using DeviceBuffer = Buffer<device_alloc, cudaFree>;

// Makes `device` current for a scope and restores the caller's device after it.
class DeviceScope {
 public:
  explicit DeviceScope(int device) {
    CUDA_CHECK(cudaGetDevice(&previous_));
    if (previous_ != device) CUDA_CHECK(cudaSetDevice(device));
  }
  ~DeviceScope() { cudaSetDevice(previous_); }
  DeviceScope(const DeviceScope&) = delete;
  DeviceScope& operator=(const DeviceScope&) = delete;

 private:
  int previous_ = 0;
};

enum class Output { kU8, kFloat32, kBFloat16, kFloat16 };

struct Slot {
  PinnedBuffer host;
  DeviceBuffer device;
  Event uploaded;
  Event consumed;
};

template <typename OutT, bool kPlanar>
void launch_typed(const detail::KernelArgs& args, int tiles, int shared_bytes,
                  cudaStream_t stream) {
  auto kernel = detail::preprocess_kernel<OutT, kPlanar>;
  if (shared_bytes > 48 * 1024)  // above the default a kernel must opt in
    CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                    shared_bytes));
  kernel<<<tiles, detail::kThreads, shared_bytes, stream>>>(args);
  CUDA_CHECK_LAUNCH();
}

// Packs, uploads and launches batches; shared by GpuPreprocessor and the timing hook.
class BatchRunner {
 public:
  explicit BatchRunner(const PreprocessOptions& options) : options_(options) {
    int count = 0;
    CUDA_CHECK(cudaGetDeviceCount(&count));
    ROOST_USAGE_CHECK(options.device >= 0 && options.device < count, "CUDA device ",
                      options.device, " does not exist (", count, " visible)");
    DeviceScope scope(options.device);
    CUDA_CHECK(cudaDeviceGetAttribute(&shared_limit_, cudaDevAttrMaxSharedMemoryPerBlockOptin,
                                      options.device));
    copy_ = std::make_unique<Stream>();
    for (auto& slot : slots_) slot = std::make_unique<Slot>();
  }

  ~BatchRunner() {
    // Pinned and device memory must outlive the copies and kernels that use them.
    if (copy_) cudaStreamSynchronize(copy_->get());
    for (auto& slot : slots_)
      if (slot) cudaEventSynchronize(slot->consumed.get());
  }

  struct Prepared {
    BatchPlan plan;
    Slot* slot = nullptr;
  };

  // Plans and packs the batch into the next slot and orders its upload before `stream`.
  Prepared upload(const std::vector<const data::Image*>& images,
                  const std::vector<data::ResizePlan>& plans, Output kind, cudaStream_t stream) {
    detail::LayoutOptions layout;
    layout.planar = kind != Output::kU8 && !options_.channels_last;
    layout.normalize = kind != Output::kU8;
    layout.shared_limit = shared_limit_;
    if (options_.tile_target_bytes > 0) layout.tile_target_bytes = options_.tile_target_bytes;
    if (options_.max_tile_rows > 0) layout.max_tile_rows = options_.max_tile_rows;
    layout.largest_first = options_.largest_tiles_first;
    Prepared batch{detail::plan_batch(images, plans, layout), slots_[next_].get()};
    next_ ^= 1;
    Slot& slot = *batch.slot;
    const size_t bytes = batch.plan.layout.total;
    // The pinned buffer is rewritten only once its previous upload has finished.
    CUDA_CHECK(cudaEventSynchronize(slot.uploaded.get()));
    slot.host.reserve(bytes);
    detail::pack_batch(batch.plan, images, options_.norm, slot.host.data());
    // A larger device buffer replaces the old one only after its last reader finished.
    CUDA_CHECK(cudaEventSynchronize(slot.consumed.get()));
    slot.device.reserve(bytes);
    CUDA_CHECK(cudaStreamWaitEvent(copy_->get(), slot.consumed.get(), 0));
    CUDA_CHECK(cudaMemcpyAsync(slot.device.data(), slot.host.data(), bytes,
                               cudaMemcpyHostToDevice, copy_->get()));
    CUDA_CHECK(cudaEventRecord(slot.uploaded.get(), copy_->get()));
    CUDA_CHECK(cudaStreamWaitEvent(stream, slot.uploaded.get(), 0));
    return batch;
  }

  // Enqueues the kernel over an uploaded batch on `stream` (may be repeated).
  void launch(const Prepared& batch, Output kind, void* out, cudaStream_t stream) {
    const detail::BatchLayout& L = batch.plan.layout;
    const detail::KernelArgs args = detail::kernel_args(batch.plan, batch.slot->device.data(), out);
    const bool planar = L.planes == 3;
    const int tiles = L.num_tiles, smem = L.shared_bytes;
    switch (kind) {
      case Output::kU8: launch_typed<uint8_t, false>(args, tiles, smem, stream); break;
      case Output::kFloat32:
        planar ? launch_typed<float, true>(args, tiles, smem, stream)
               : launch_typed<float, false>(args, tiles, smem, stream);
        break;
      case Output::kBFloat16:
        planar ? launch_typed<__nv_bfloat16, true>(args, tiles, smem, stream)
               : launch_typed<__nv_bfloat16, false>(args, tiles, smem, stream);
        break;
      case Output::kFloat16:
        planar ? launch_typed<__half, true>(args, tiles, smem, stream)
               : launch_typed<__half, false>(args, tiles, smem, stream);
        break;
    }
    // The next upload into this slot waits for this kernel (see upload()).
    CUDA_CHECK(cudaEventRecord(batch.slot->consumed.get(), stream));
  }

  void run(const std::vector<const data::Image*>& images,
           const std::vector<data::ResizePlan>& plans, Output kind, void* out, void* stream) {
    if (images.empty() && plans.empty()) return;
    ROOST_CHECK(out != nullptr, "device output pointer is null");
    DeviceScope scope(options_.device);
    const auto s = static_cast<cudaStream_t>(stream);
    const Prepared batch = upload(images, plans, kind, s);
    launch(batch, kind, out, s);
  }

 private:
  PreprocessOptions options_;
  int shared_limit_ = 48 * 1024;
  std::unique_ptr<Stream> copy_;
  std::unique_ptr<Slot> slots_[2];
  int next_ = 0;
};

Output output_of(OutputType type) {
  switch (type) {
    case OutputType::kFloat32: return Output::kFloat32;
    case OutputType::kBFloat16: return Output::kBFloat16;
    case OutputType::kFloat16: return Output::kFloat16;
  }
  ROOST_THROW("unknown output type ", static_cast<int>(type));
}

size_t element_size(Output kind) {
  return kind == Output::kU8 ? 1 : kind == Output::kFloat32 ? 4 : 2;
}

}  // namespace

struct GpuPreprocessor::Impl {
  explicit Impl(const PreprocessOptions& options) : options(options), runner(options) {}
  PreprocessOptions options;
  BatchRunner runner;
};

GpuPreprocessor::GpuPreprocessor(const PreprocessOptions& options)
    : impl_(std::make_unique<Impl>(options)) {}

GpuPreprocessor::~GpuPreprocessor() = default;

bool GpuPreprocessor::available() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();  // clear the "no device" error so later CUDA calls do not see it
    return false;
  }
  return count > 0;
}

void GpuPreprocessor::run(const std::vector<const data::Image*>& images,
                          const std::vector<data::ResizePlan>& plans, void* device_out,
                          void* stream) {
  impl_->runner.run(images, plans, output_of(impl_->options.output), device_out, stream);
}

void GpuPreprocessor::run_u8(const std::vector<const data::Image*>& images,
                             const std::vector<data::ResizePlan>& plans, void* device_out,
                             void* stream) {
  impl_->runner.run(images, plans, Output::kU8, device_out, stream);
}

KernelTiming time_preprocess_kernel(const PreprocessOptions& options,
                                    const std::vector<const data::Image*>& images,
                                    const std::vector<data::ResizePlan>& plans,
                                    void* device_out, int warmup, int reps) {
  BatchRunner runner(options);
  DeviceScope scope(options.device);
  Stream stream;
  const Output kind = output_of(options.output);
  const BatchRunner::Prepared batch = runner.upload(images, plans, kind, stream.get());
  for (int i = 0; i < warmup; ++i) runner.launch(batch, kind, device_out, stream.get());
  Event start(cudaEventDefault), stop(cudaEventDefault);
  KernelTiming timing;
  // Each sample times `kBackToBack` launches queued behind one another and divides: a
  // single launch between two events would also time the host's launch latency (several
  // microseconds against a kernel of ~0.1 ms), which is not the kernel's.
  constexpr int kBackToBack = 10;
  for (int i = 0; i < reps; ++i) {
    CUDA_CHECK(cudaEventRecord(start.get(), stream.get()));
    for (int j = 0; j < kBackToBack; ++j) runner.launch(batch, kind, device_out, stream.get());
    CUDA_CHECK(cudaEventRecord(stop.get(), stream.get()));
    CUDA_CHECK(cudaEventSynchronize(stop.get()));
    float ms = 0;
    CUDA_CHECK(cudaEventElapsedTime(&ms, start.get(), stop.get()));
    timing.milliseconds.push_back(ms / kBackToBack);
  }
  CUDA_CHECK(cudaStreamSynchronize(stream.get()));
  const detail::BatchLayout& L = batch.plan.layout;
  timing.input_bytes = L.input_bytes;
  timing.output_bytes = L.output_elements * element_size(kind);
  timing.tiles = L.num_tiles;
  timing.shared_bytes = L.shared_bytes;
  return timing;
}

}  // namespace roost::kernels
