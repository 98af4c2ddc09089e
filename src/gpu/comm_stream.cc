// roost/gpu/comm_stream.cc — the exchange stream and its marks (see comm_stream.h).
#include "roost/gpu/comm_stream.h"

#ifdef ROOST_TORCH_CUDA
#include <ATen/cuda/CUDAEvent.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace roost::gpu {

#ifdef ROOST_TORCH_CUDA
struct StreamMark::Impl {
  at::cuda::CUDAEvent event;
  explicit Impl(bool timed) : event(timed ? cudaEventDefault : cudaEventDisableTiming) {}
};

struct CommStream::Impl {
  c10::cuda::CUDAStream stream = c10::cuda::getStreamFromPool(/*isHighPriority=*/true);
};

struct CommStream::Current::Impl {
  c10::cuda::CUDAStreamGuard guard;
  explicit Impl(c10::cuda::CUDAStream s) : guard(s) {}
};

namespace {
void record_use(const torch::Tensor& t, c10::cuda::CUDAStream s) {
  if (t.defined() && t.is_cuda() && t.storage().data_ptr().get() != nullptr)
    c10::cuda::CUDACachingAllocator::recordStream(t.storage().data_ptr(), s);
}
}  // namespace

float StreamMark::ms_since(const StreamMark& earlier) const {
  if (!impl_ || !earlier.impl_) return 0;
  earlier.impl_->event.synchronize();
  impl_->event.synchronize();
  return earlier.impl_->event.elapsed_time(impl_->event);
}

CommStream::CommStream() : impl_(std::make_unique<Impl>()) {}
void* CommStream::stream() const { return impl_->stream.stream(); }

StreamMark CommStream::mark_current(bool timed) {
  StreamMark m;
  m.impl_ = std::make_unique<StreamMark::Impl>(timed);
  m.impl_->event.record(c10::cuda::getCurrentCUDAStream());
  return m;
}

StreamMark CommStream::mark(bool timed) const {
  StreamMark m;
  m.impl_ = std::make_unique<StreamMark::Impl>(timed);
  m.impl_->event.record(impl_->stream);
  return m;
}

void CommStream::wait(const StreamMark& mark) const {
  if (mark.impl_) mark.impl_->event.block(impl_->stream);
}

void CommStream::current_waits(const StreamMark& mark) {
  if (mark.impl_) mark.impl_->event.block(c10::cuda::getCurrentCUDAStream());
}

void CommStream::used_here(const torch::Tensor& t) const { record_use(t, impl_->stream); }
void CommStream::used_on_current(const torch::Tensor& t) { record_use(t, c10::cuda::getCurrentCUDAStream()); }

CommStream::Current::Current(const CommStream& stream) : impl_(std::make_unique<Impl>(stream.impl_->stream)) {}
#else
struct StreamMark::Impl {};
struct CommStream::Impl {};
struct CommStream::Current::Impl {};

float StreamMark::ms_since(const StreamMark&) const { return 0; }
CommStream::CommStream() = default;
void* CommStream::stream() const { return nullptr; }
StreamMark CommStream::mark_current(bool) { return {}; }
StreamMark CommStream::mark(bool) const { return {}; }
void CommStream::wait(const StreamMark&) const {}
void CommStream::current_waits(const StreamMark&) {}
void CommStream::used_here(const torch::Tensor&) const {}
void CommStream::used_on_current(const torch::Tensor&) {}
CommStream::Current::Current(const CommStream&) {}
#endif

StreamMark::StreamMark() = default;
StreamMark::~StreamMark() = default;
StreamMark::StreamMark(StreamMark&&) noexcept = default;
StreamMark& StreamMark::operator=(StreamMark&&) noexcept = default;
CommStream::~CommStream() = default;
CommStream::Current::~Current() = default;

}  // namespace roost::gpu
