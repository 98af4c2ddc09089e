// roost/gpu/comm_stream.h — a CUDA stream of its own for gradient exchange, ordered against
// torch's compute stream by events, behind a header without c10/cuda.
//
// The gradient synchronizer enqueues NCCL on this stream from its own thread: each gradient
// is marked on the compute stream when backward produces it, the exchange stream waits for
// that mark only, and the compute stream waits for the exchange's mark only where the
// averaged gradient is used. Backward's later kernels and the allreduces then run at the
// same time. Tensors that cross streams are recorded with the caching allocator, so their
// memory is not handed out again while the other stream may still read it.
//
// Without a CUDA libtorch every call is a no-op and stream() is nullptr.
#pragma once

#include <torch/torch.h>

#include <memory>

namespace roost::gpu {

// A point in one stream's work (a CUDA event); empty without CUDA.
class StreamMark {
 public:
  StreamMark();
  ~StreamMark();
  StreamMark(StreamMark&&) noexcept;
  StreamMark& operator=(StreamMark&&) noexcept;
  bool empty() const { return impl_ == nullptr; }
  // Milliseconds from `earlier` to this mark, once both have completed (waits for them).
  float ms_since(const StreamMark& earlier) const;

 private:
  friend class CommStream;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class CommStream {
 public:
  CommStream();  // a stream from torch's pool on the current device
  ~CommStream();
  CommStream(const CommStream&) = delete;
  CommStream& operator=(const CommStream&) = delete;

  void* stream() const;  // the cudaStream_t (nullptr without CUDA)

  // A mark on torch's current stream of the calling thread (the compute stream in a hook).
  static StreamMark mark_current(bool timed = false);
  // A mark on this stream.
  StreamMark mark(bool timed = false) const;
  // This stream waits for `mark`; torch's current stream waits for `mark`.
  void wait(const StreamMark& mark) const;
  static void current_waits(const StreamMark& mark);
  // `t`'s memory is used on this stream / on the calling thread's current stream.
  void used_here(const torch::Tensor& t) const;
  static void used_on_current(const torch::Tensor& t);

  // Makes this stream torch's current stream on the calling thread while it lives.
  class Current {
   public:
    explicit Current(const CommStream& stream);
    ~Current();
    Current(const Current&) = delete;
    Current& operator=(const Current&) = delete;

   private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
  };

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace roost::gpu
