// kernels/preprocess.cu — GpuPreprocessor: the host side of the fused preprocessing kernel.
//
// A batch is first packed (planned, and the pixels its kernel reads copied) into a block of
// pinned host memory from a pool; pack() is thread-safe, so a loader's workers can do it.
// The block's `uploaded` event marks when its copy to the device finished, after which the
// pool may hand it out again. The copy goes into one of two device buffers (slots), used in
// turn, each with a `consumed` event: the kernel that read it finished, so the next copy into
// it may start (the copy stream waits for that on the device, not the host). The copy runs on
// our own stream; the caller's compute stream waits for it through an event, so run() never
// blocks the GPU.
#include <cuda_runtime.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

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
  explicit Event(unsigned flags = cudaEventDisableTiming) { CUDA_CHECK(cudaEventCreateWithFlags(&event_, flags)); }
  ~Event() { cudaEventDestroy(event_); }
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  cudaEvent_t get() const { return event_; }

 private:
  cudaEvent_t event_ = nullptr;
};

// Grow-only device buffer.
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  ~DeviceBuffer() { release(); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  size_t capacity() const { return size_; }
  // Callers make sure no pending copy or kernel still uses the old allocation.
  void reserve(size_t bytes) {
    if (bytes <= size_) return;
    release();
    const size_t grown = bytes + bytes / 4;  // headroom: batches vary a little in size
    CUDA_CHECK(cudaMalloc(&data_, grown));
    size_ = grown;
  }
  uint8_t* data() const { return static_cast<uint8_t*>(data_); }

 private:
  void release() {
    if (data_) cudaFree(data_);
    data_ = nullptr;
    size_ = 0;
  }
  void* data_ = nullptr;
  size_t size_ = 0;
};

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

// Pinned host memory for packed batches, shared by the threads that pack (a loader's
// workers) and the one that uploads. A block goes back to the pool when its packed batch is
// dropped, and is reused once its upload (an event on the copy stream) has finished.
class PinnedPool : public std::enable_shared_from_this<PinnedPool> {
 public:
  struct Block {
    uint8_t* data = nullptr;
    size_t size = 0;
    Event uploaded;        // recorded after the copy that reads `data`
    bool pending = false;  // `uploaded` was recorded and may not have completed
    Block() = default;
    Block(const Block&) = delete;
    Block& operator=(const Block&) = delete;
    ~Block() {
      if (pending) cudaEventSynchronize(uploaded.get());  // no copy may still read it
      if (data) cudaFreeHost(data);
    }
  };

  explicit PinnedPool(int device) : device_(device) {}

  // A block of at least `bytes`, returned to the pool when the last copy of the pointer goes.
  std::shared_ptr<Block> acquire(size_t bytes) {
    // The device stays current: on a loader's fresh worker thread, restoring device 0 would
    // start a context on GPU 0 for every rank that trains on another GPU.
    int current = -1;
    CUDA_CHECK(cudaGetDevice(&current));
    if (current != device_) CUDA_CHECK(cudaSetDevice(device_));
    std::unique_ptr<Block> block;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      // The first idle block large enough; else an idle one to grow, so the pool does not
      // keep blocks that are too small.
      for (int pass = 0; pass < 2 && !block; ++pass)
        for (auto it = free_.begin(); it != free_.end(); ++it)
          if ((pass == 1 || (*it)->size >= bytes) && idle(**it)) {
            block = std::move(*it);
            free_.erase(it);
            break;
          }
    }
    if (!block) block = std::make_unique<Block>();  // its event belongs to device_'s context
    if (block->size < bytes) {
      if (block->data) CUDA_CHECK(cudaFreeHost(block->data));
      block->data = nullptr;
      block->size = 0;
      const size_t grown = bytes + bytes / 4;  // headroom: batches vary a little in size
      CUDA_CHECK(cudaHostAlloc(reinterpret_cast<void**>(&block->data), grown, cudaHostAllocPortable));
      block->size = grown;
    }
    std::weak_ptr<PinnedPool> pool = weak_from_this();
    return std::shared_ptr<Block>(block.release(), [pool](Block* b) {
      const std::shared_ptr<PinnedPool> owner = pool.lock();
      if (owner) owner->give_back(b);
      else delete b;
    });
  }

 private:
  // Whether no copy reads the block any more. Caller holds the mutex.
  static bool idle(Block& b) {
    if (!b.pending) return true;
    const cudaError_t rc = cudaEventQuery(b.uploaded.get());
    if (rc == cudaErrorNotReady) return false;
    CUDA_CHECK(rc);
    b.pending = false;
    return true;
  }

  void give_back(Block* b) noexcept {
    try {
      std::lock_guard<std::mutex> lock(mutex_);
      free_.emplace_back(b);
    } catch (...) {
      delete b;
    }
  }

  int device_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<Block>> free_;
};

enum class Output { kU8, kFloat32, kBFloat16, kFloat16 };

// A batch planned and packed into pinned host memory, ready for upload.
struct PackedBatch : data::PreparedBatch {
  const void* owner = nullptr;  // the BatchRunner that packed it
  BatchPlan plan;
  Output kind = Output::kFloat32;
  std::shared_ptr<PinnedPool::Block> host;
};

// One of two device buffers used in turn, with the event of the last kernel that read it.
struct Slot {
  DeviceBuffer device;
  Event consumed;
};

template <typename OutT, bool kPlanar>
void launch_typed(const detail::KernelArgs& args, int tiles, int shared_bytes, cudaStream_t stream) {
  auto kernel = detail::preprocess_kernel<OutT, kPlanar>;
  if (shared_bytes > 48 * 1024)  // above the default a kernel must opt in
    CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, shared_bytes));
  kernel<<<tiles, detail::kThreads, shared_bytes, stream>>>(args);
  CUDA_CHECK_LAUNCH();
}

// Packs, uploads and launches batches; shared by GpuPreprocessor and the timing hook.
class BatchRunner {
 public:
  explicit BatchRunner(const PreprocessOptions& options)
      : options_(options), pool_(std::make_shared<PinnedPool>(options.device)) {
    int count = 0;
    CUDA_CHECK(cudaGetDeviceCount(&count));
    ROOST_USAGE_CHECK(options.device >= 0 && options.device < count, "CUDA device ", options.device,
                      " does not exist (", count, " visible)");
    DeviceScope scope(options.device);
    CUDA_CHECK(cudaDeviceGetAttribute(&shared_limit_, cudaDevAttrMaxSharedMemoryPerBlockOptin, options.device));
    copy_ = std::make_unique<Stream>();
    for (auto& slot : slots_) slot = std::make_unique<Slot>();
  }

  ~BatchRunner() {
    // Pinned and device memory must outlive the copies and kernels that use them.
    if (copy_) cudaStreamSynchronize(copy_->get());
    for (auto& slot : slots_)
      if (slot) cudaEventSynchronize(slot->consumed.get());
  }

  // Plans the batch and packs it into pinned memory. Thread-safe.
  std::shared_ptr<PackedBatch> pack(const std::vector<const data::Image*>& images,
                                    const std::vector<data::ResizePlan>& plans, Output kind) const {
    detail::LayoutOptions layout;
    layout.planar = kind != Output::kU8 && !options_.channels_last;
    layout.normalize = kind != Output::kU8;
    layout.shared_limit = shared_limit_;
    if (options_.tile_target_bytes > 0) layout.tile_target_bytes = options_.tile_target_bytes;
    if (options_.max_tile_rows > 0) layout.max_tile_rows = options_.max_tile_rows;
    layout.largest_first = options_.largest_tiles_first;
    auto packed = std::make_shared<PackedBatch>();
    packed->owner = this;
    packed->plan = detail::plan_batch(images, plans, layout);
    packed->kind = kind;
    packed->host = pool_->acquire(packed->plan.layout.total);
    detail::pack_batch(packed->plan, images, options_.norm, packed->host->data);
    return packed;
  }

  // Copies a packed batch into the next slot's device buffer on the copy stream and orders
  // the copy before `stream`. Returns the slot.
  Slot& upload(const PackedBatch& packed, cudaStream_t stream) {
    Slot& slot = *slots_[next_];
    next_ ^= 1;
    const size_t bytes = packed.plan.layout.total;
    // A larger device buffer replaces the old one only after its last reader finished;
    // otherwise the copy stream waits for that reader on the device, not the host.
    if (bytes > slot.device.capacity()) CUDA_CHECK(cudaEventSynchronize(slot.consumed.get()));
    slot.device.reserve(bytes);
    CUDA_CHECK(cudaStreamWaitEvent(copy_->get(), slot.consumed.get(), 0));
    CUDA_CHECK(cudaMemcpyAsync(slot.device.data(), packed.host->data, bytes, cudaMemcpyHostToDevice, copy_->get()));
    CUDA_CHECK(cudaEventRecord(packed.host->uploaded.get(), copy_->get()));
    packed.host->pending = true;  // the pool reuses the block once the copy has finished
    CUDA_CHECK(cudaStreamWaitEvent(stream, packed.host->uploaded.get(), 0));
    return slot;
  }

  // Enqueues the kernel over an uploaded batch on `stream` (may be repeated).
  void launch(const PackedBatch& packed, Slot& slot, void* out, cudaStream_t stream) {
    const detail::BatchLayout& L = packed.plan.layout;
    const detail::KernelArgs args = detail::kernel_args(packed.plan, slot.device.data(), out);
    const bool planar = L.planes == 3;
    const int tiles = L.num_tiles, smem = L.shared_bytes;
    switch (packed.kind) {
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
    CUDA_CHECK(cudaEventRecord(slot.consumed.get(), stream));
  }

  void run_packed(const PackedBatch& packed, void* out, void* stream) {
    ROOST_CHECK(packed.owner == this, "run_packed: the batch was packed by another preprocessor");
    ROOST_CHECK(out != nullptr, "device output pointer is null");
    DeviceScope scope(options_.device);
    const auto s = static_cast<cudaStream_t>(stream);
    try {
      Slot& slot = upload(packed, s);
      launch(packed, slot, out, s);
    } catch (...) {
      // A copy may have been queued without the events that guard its memory: let it finish
      // before the pinned block or the device buffer can be reused.
      cudaStreamSynchronize(copy_->get());
      throw;
    }
  }

  void run(const std::vector<const data::Image*>& images, const std::vector<data::ResizePlan>& plans, Output kind,
           void* out, void* stream) {
    if (images.empty() && plans.empty()) return;
    run_packed(*pack(images, plans, kind), out, stream);
  }

 private:
  PreprocessOptions options_;
  int shared_limit_ = 48 * 1024;
  std::shared_ptr<PinnedPool> pool_;
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

size_t element_size(Output kind) { return kind == Output::kU8 ? 1 : kind == Output::kFloat32 ? 4 : 2; }

}  // namespace

struct GpuPreprocessor::Impl {
  explicit Impl(const PreprocessOptions& options) : options(options), runner(options) {}
  PreprocessOptions options;
  BatchRunner runner;
};

GpuPreprocessor::GpuPreprocessor(const PreprocessOptions& options) : impl_(std::make_unique<Impl>(options)) {}

GpuPreprocessor::~GpuPreprocessor() = default;

bool GpuPreprocessor::available() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();  // clear the "no device" error so later CUDA calls do not see it
    return false;
  }
  return count > 0;
}

void GpuPreprocessor::run(const std::vector<const data::Image*>& images, const std::vector<data::ResizePlan>& plans,
                          void* device_out, void* stream) {
  impl_->runner.run(images, plans, output_of(impl_->options.output), device_out, stream);
}

std::shared_ptr<data::PreparedBatch> GpuPreprocessor::pack(const std::vector<const data::Image*>& images,
                                                           const std::vector<data::ResizePlan>& plans) const {
  return impl_->runner.pack(images, plans, output_of(impl_->options.output));
}

void GpuPreprocessor::run_packed(const std::shared_ptr<data::PreparedBatch>& packed, void* device_out, void* stream) {
  const auto* batch = dynamic_cast<const PackedBatch*>(packed.get());
  ROOST_CHECK(batch != nullptr, "run_packed: not a batch packed by GpuPreprocessor::pack");
  impl_->runner.run_packed(*batch, device_out, stream);
}

void GpuPreprocessor::run_u8(const std::vector<const data::Image*>& images, const std::vector<data::ResizePlan>& plans,
                             void* device_out, void* stream) {
  impl_->runner.run(images, plans, Output::kU8, device_out, stream);
}

KernelTiming time_preprocess_kernel(const PreprocessOptions& options, const std::vector<const data::Image*>& images,
                                    const std::vector<data::ResizePlan>& plans, void* device_out, int warmup,
                                    int reps) {
  BatchRunner runner(options);
  DeviceScope scope(options.device);
  Stream stream;
  const Output kind = output_of(options.output);
  const std::shared_ptr<PackedBatch> batch = runner.pack(images, plans, kind);
  Slot& slot = runner.upload(*batch, stream.get());
  for (int i = 0; i < warmup; ++i) runner.launch(*batch, slot, device_out, stream.get());
  Event start(cudaEventDefault), stop(cudaEventDefault);
  KernelTiming timing;
  // Each sample times `kBackToBack` launches queued behind one another and divides: a
  // single launch between two events would also time the host's launch latency (several
  // microseconds against a kernel of ~0.1 ms), which is not the kernel's.
  constexpr int kBackToBack = 10;
  for (int i = 0; i < reps; ++i) {
    CUDA_CHECK(cudaEventRecord(start.get(), stream.get()));
    for (int j = 0; j < kBackToBack; ++j) runner.launch(*batch, slot, device_out, stream.get());
    CUDA_CHECK(cudaEventRecord(stop.get(), stream.get()));
    CUDA_CHECK(cudaEventSynchronize(stop.get()));
    float ms = 0;
    CUDA_CHECK(cudaEventElapsedTime(&ms, start.get(), stop.get()));
    timing.milliseconds.push_back(ms / kBackToBack);
  }
  CUDA_CHECK(cudaStreamSynchronize(stream.get()));
  const detail::BatchLayout& L = batch->plan.layout;
  timing.input_bytes = L.input_bytes;
  timing.output_bytes = L.output_elements * element_size(kind);
  timing.tiles = L.num_tiles;
  timing.shared_bytes = L.shared_bytes;
  return timing;
}

}  // namespace roost::kernels
