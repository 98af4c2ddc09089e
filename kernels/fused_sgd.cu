// kernels/fused_sgd.cu — the fused multi-tensor SGD step and the device-side loss-scaling
// kernels behind roost/kernels/fused_sgd.h.
//
// A plan's chunk table cuts every parameter into chunks of kChunk elements; one thread
// block steps one chunk, so a step over ResNet-50's 161 tensors is a single launch of about
// 1,700 blocks whatever the tensors' sizes. Blocks read their chunk's entry (pointers, types,
// length) from the plan's device tables; the launch itself carries only those two pointers,
// the host scalars and the device scalars' pointers — nothing a CUDA graph would have to
// rewrite between replays.
#include <cuda_runtime.h>

#include <cstring>
#include <limits>
#include <vector>

#include "fused_sgd_math.h"
#include "roost/core/cuda_check.h"
#include "roost/core/error.h"
#include "roost/kernels/fused_sgd.h"

namespace roost::kernels {

namespace {

constexpr int64_t kChunk = 16384;  // elements per block: 64 KiB of float32 per array
constexpr int kThreads = 256;

struct Entry {  // one parameter, as the kernels read it
  void* param;
  const void* grad;
  float* momentum;
  int64_t numel;
  SgdType param_type, grad_type;
  bool first;
};

struct Chunk {
  int32_t entry;  // index into the entry table
  int32_t index;  // elements [index * kChunk, min((index + 1) * kChunk, numel))
};

template <SgdType T>
__device__ __forceinline__ float load(const void* base, int64_t i) {
  if constexpr (T == SgdType::kFloat32) return static_cast<const float*>(base)[i];
  const uint16_t bits = static_cast<const uint16_t*>(base)[i];
  return T == SgdType::kBFloat16 ? sgd_math::bf16_to_float(bits) : sgd_math::fp16_to_float(bits);
}

template <SgdType T>
__device__ __forceinline__ void store(void* base, int64_t i, float v) {
  if constexpr (T == SgdType::kFloat32) {
    static_cast<float*>(base)[i] = v;
  } else {
    static_cast<uint16_t*>(base)[i] = T == SgdType::kBFloat16 ? sgd_math::float_to_bf16(v) : sgd_math::float_to_fp16(v);
  }
}

// One chunk of one parameter with parameter type P and gradient type G. Each thread loads
// kIlp elements (kThreads apart, so a warp's accesses stay contiguous) before it computes and
// stores any: the compiler may not move a load above a store that could alias it, and
// without this a thread would wait for one element's memory at a time.
constexpr int kIlp = 4;

template <SgdType P, SgdType G>
__device__ void step_chunk(const Entry& e, int64_t begin, int64_t end, const sgd_math::Coefficients& c, bool unscale,
                           float inv_scale) {
  const bool momentum = c.momentum != 0, read_buf = momentum && !e.first;
  for (int64_t base = begin + threadIdx.x; base < end; base += kIlp * kThreads) {
    float p[kIlp], g[kIlp], buf[kIlp];
#pragma unroll
    for (int k = 0; k < kIlp; ++k) {
      const int64_t i = base + k * kThreads;
      if (i >= end) continue;
      p[k] = load<P>(e.param, i);
      g[k] = load<G>(e.grad, i);
      buf[k] = read_buf ? e.momentum[i] : 0.0f;
    }
#pragma unroll
    for (int k = 0; k < kIlp; ++k) {
      const int64_t i = base + k * kThreads;
      if (i >= end) continue;
      const float gk = unscale ? sgd_math::mul_rn(g[k], inv_scale) : g[k];
      const float updated = sgd_math::update(p[k], gk, buf[k], e.first, c);
      if (momentum) e.momentum[i] = buf[k];
      store<P>(e.param, i, updated);
    }
  }
}

__global__ void __launch_bounds__(kThreads)
    sgd_kernel(const Entry* entries, const Chunk* chunks, sgd_math::Coefficients c, SgdDeviceScalars s) {
  if (s.found_inf != nullptr && *s.found_inf != 0) return;  // a skipped step: nothing changes
  c.lr = *s.lr;
  const bool unscale = s.inv_scale != nullptr;
  const float inv_scale = unscale ? *s.inv_scale : 1.0f;
  const Chunk chunk = chunks[blockIdx.x];
  const Entry e = entries[chunk.entry];
  const int64_t begin = static_cast<int64_t>(chunk.index) * kChunk;
  const int64_t end = begin + kChunk < e.numel ? begin + kChunk : e.numel;
  const bool float_grad = e.grad_type == SgdType::kFloat32;
  switch (e.param_type) {
    case SgdType::kFloat32:
      step_chunk<SgdType::kFloat32, SgdType::kFloat32>(e, begin, end, c, unscale, inv_scale);
      break;
    case SgdType::kBFloat16:
      float_grad ? step_chunk<SgdType::kBFloat16, SgdType::kFloat32>(e, begin, end, c, unscale, inv_scale)
                 : step_chunk<SgdType::kBFloat16, SgdType::kBFloat16>(e, begin, end, c, unscale, inv_scale);
      break;
    case SgdType::kFloat16:
      float_grad ? step_chunk<SgdType::kFloat16, SgdType::kFloat32>(e, begin, end, c, unscale, inv_scale)
                 : step_chunk<SgdType::kFloat16, SgdType::kFloat16>(e, begin, end, c, unscale, inv_scale);
      break;
  }
}

template <SgdType G>
__device__ bool chunk_has_non_finite(const Entry& e, int64_t begin, int64_t end) {
  bool bad = false;
  for (int64_t i = begin + threadIdx.x; i < end; i += kThreads) bad |= !isfinite(load<G>(e.grad, i));
  return bad;
}

// Every block that finds an infinity or NaN stores the same 1.0f: racing stores of one value
// need no atomics, and one store per block suffices.
__global__ void __launch_bounds__(kThreads) non_finite_kernel(const Entry* entries, const Chunk* chunks, float* found) {
  const Chunk chunk = chunks[blockIdx.x];
  const Entry e = entries[chunk.entry];
  const int64_t begin = static_cast<int64_t>(chunk.index) * kChunk;
  const int64_t end = begin + kChunk < e.numel ? begin + kChunk : e.numel;
  bool bad;
  switch (e.grad_type) {
    case SgdType::kFloat32: bad = chunk_has_non_finite<SgdType::kFloat32>(e, begin, end); break;
    case SgdType::kBFloat16: bad = chunk_has_non_finite<SgdType::kBFloat16>(e, begin, end); break;
    default: bad = chunk_has_non_finite<SgdType::kFloat16>(e, begin, end); break;
  }
  if (__syncthreads_or(bad) && threadIdx.x == 0) *found = 1.0f;
}

__global__ void update_scale_kernel(float* scale, int32_t* tracker, float* inv_scale, const float* found_inf,
                                    int32_t interval, float growth, float backoff) {
  float s = *scale;
  if (*found_inf != 0) {
    s *= backoff;
    *tracker = 0;
  } else if (*tracker + 1 >= interval) {
    const float grown = s * growth;
    if (isfinite(grown)) s = grown;
    *tracker = 0;
  } else {
    *tracker += 1;
  }
  *scale = s;
  *inv_scale = 1.0f / s;
}

cudaStream_t as_stream(void* stream) { return static_cast<cudaStream_t>(stream); }

}  // namespace

bool fused_sgd_available() {
  static const bool available = [] {  // asked before every step: once is enough
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess) {
      cudaGetLastError();  // clear the "no device" error so later CUDA calls do not see it
      return false;
    }
    return count > 0;
  }();
  return available;
}

// The tables live in memory from the device's stream-ordered pool where it has one
// (cudaMallocAsync), so that dropping a plan between steps (gradients at new addresses) does
// not make the host wait for the device, as cudaFree (the fallback) does.
struct FusedSgdPlan::Impl {
  size_t entries = 0, chunks = 0;
  bool all_momentum = true;             // every entry has a momentum buffer
  void* device = nullptr;               // the entry table, then the chunk table
  bool pooled = false;                  // from cudaMallocAsync
  mutable cudaStream_t last = nullptr;  // the stream of the latest upload or launch: frees follow it
  const Entry* device_entries() const { return static_cast<const Entry*>(device); }
  const Chunk* device_chunks() const {
    return reinterpret_cast<const Chunk*>(static_cast<const char*>(device) + entries * sizeof(Entry));
  }
  void allocate(size_t bytes, cudaStream_t stream) {
    int device_index = 0, pools = 0;
    CUDA_CHECK(cudaGetDevice(&device_index));
    CUDA_CHECK(cudaDeviceGetAttribute(&pools, cudaDevAttrMemoryPoolsSupported, device_index));
    pooled = pools != 0;
    CUDA_CHECK(pooled ? cudaMallocAsync(&device, bytes, stream) : cudaMalloc(&device, bytes));
    last = stream;
  }
  ~Impl() {
    if (device && pooled) cudaFreeAsync(device, last);  // after the last launch that reads the tables
    if (device && !pooled) cudaFree(device);            // synchronizes: no launch still reads them
  }
};

namespace {

Entry entry_of(const SgdTensor& t, size_t i) {
  ROOST_CHECK(t.param != nullptr && t.grad != nullptr, "fused SGD: tensor ", i, " lacks a parameter or gradient");
  ROOST_CHECK(t.numel >= 0, "fused SGD: tensor ", i, " has a negative length");
  ROOST_CHECK(t.grad_type == t.param_type || t.grad_type == SgdType::kFloat32, "fused SGD: tensor ", i,
              "'s gradient is neither of the parameter's type nor float32");
  ROOST_CHECK((t.numel + kChunk - 1) / kChunk <= std::numeric_limits<int32_t>::max(), "fused SGD: tensor ", i,
              " is too large");
  return Entry{t.param, t.grad, t.momentum, t.numel, t.param_type, t.grad_type, t.first};
}

}  // namespace

FusedSgdPlan::FusedSgdPlan(const std::vector<SgdTensor>& tensors, void* stream) : impl_(std::make_unique<Impl>()) {
  cudaStreamCaptureStatus capturing = cudaStreamCaptureStatusNone;
  CUDA_CHECK(cudaStreamIsCapturing(as_stream(stream), &capturing));
  ROOST_CHECK(capturing == cudaStreamCaptureStatusNone, "fused SGD: build the plan before capturing the stream");
  std::vector<Entry> entries;
  std::vector<Chunk> chunks;
  for (size_t i = 0; i < tensors.size(); ++i) {
    entries.push_back(entry_of(tensors[i], i));
    impl_->all_momentum = impl_->all_momentum && tensors[i].momentum != nullptr;
    for (int64_t c = 0; c * kChunk < tensors[i].numel; ++c)
      chunks.push_back(Chunk{static_cast<int32_t>(i), static_cast<int32_t>(c)});
  }
  impl_->entries = entries.size();
  impl_->chunks = chunks.size();
  std::vector<char> bytes(entries.size() * sizeof(Entry) + chunks.size() * sizeof(Chunk));
  if (bytes.empty()) return;
  std::memcpy(bytes.data(), entries.data(), entries.size() * sizeof(Entry));
  std::memcpy(bytes.data() + entries.size() * sizeof(Entry), chunks.data(), chunks.size() * sizeof(Chunk));
  impl_->allocate(bytes.size(), as_stream(stream));
  // From pageable memory, cudaMemcpyAsync returns once the driver has staged the bytes, so
  // `bytes` may go; the driver may wait for the stream to do so (CUDA's documented latitude;
  // small tables usually go inline). Plans are built rarely (see src/train/sgd_device.h).
  CUDA_CHECK(cudaMemcpyAsync(impl_->device, bytes.data(), bytes.size(), cudaMemcpyHostToDevice, as_stream(stream)));
}

FusedSgdPlan::~FusedSgdPlan() = default;

size_t FusedSgdPlan::tensors() const { return impl_->entries; }

size_t FusedSgdPlan::chunks() const { return impl_->chunks; }

void FusedSgdPlan::step(const SgdHyper& hyper, const SgdDeviceScalars& scalars, void* stream) const {
  ROOST_CHECK(scalars.lr != nullptr, "fused SGD: the step needs the learning rate's device pointer");
  ROOST_CHECK(hyper.momentum == 0 || impl_->all_momentum, "fused SGD: momentum without a buffer for every tensor");
  ROOST_CHECK(!hyper.nesterov || (hyper.momentum > 0 && hyper.dampening == 0),
              "fused SGD: Nesterov momentum needs momentum > 0 and no dampening");
  if (impl_->chunks == 0) return;
  sgd_math::Coefficients c;
  c.momentum = static_cast<float>(hyper.momentum);
  c.keep = static_cast<float>(1.0 - hyper.dampening);
  c.weight_decay = static_cast<float>(hyper.weight_decay);
  c.nesterov = hyper.nesterov;
  impl_->last = as_stream(stream);
  sgd_kernel<<<static_cast<unsigned>(impl_->chunks), kThreads, 0, as_stream(stream)>>>(
      impl_->device_entries(), impl_->device_chunks(), c, scalars);
  CUDA_CHECK_LAUNCH();
}

void FusedSgdPlan::find_non_finite(float* found_inf, void* stream) const {
  CUDA_CHECK(cudaMemsetAsync(found_inf, 0, sizeof(float), as_stream(stream)));
  if (impl_->chunks == 0) return;
  impl_->last = as_stream(stream);
  non_finite_kernel<<<static_cast<unsigned>(impl_->chunks), kThreads, 0, as_stream(stream)>>>(
      impl_->device_entries(), impl_->device_chunks(), found_inf);
  CUDA_CHECK_LAUNCH();
}

void update_loss_scale(float* scale, int32_t* growth_tracker, float* inv_scale, const float* found_inf,
                       int32_t growth_interval, void* stream, float growth, float backoff) {
  ROOST_CHECK(scale && growth_tracker && inv_scale && found_inf, "update_loss_scale: a null device pointer");
  ROOST_CHECK(growth_interval > 0, "update_loss_scale: growth_interval must be positive, not ", growth_interval);
  update_scale_kernel<<<1, 1, 0, as_stream(stream)>>>(scale, growth_tracker, inv_scale, found_inf, growth_interval,
                                                      growth, backoff);
  CUDA_CHECK_LAUNCH();
}

}  // namespace roost::kernels
