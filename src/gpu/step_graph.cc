// roost/gpu/step_graph.cc — capture and replay of a CUDA graph (see step_graph.h).
#include "roost/gpu/step_graph.h"

#include "roost/core/error.h"

#ifdef ROOST_TORCH_CUDA
#include <torch/version.h>

#include <optional>

#include <ATen/cuda/CUDAEvent.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace roost::gpu {

#ifdef ROOST_TORCH_CUDA
namespace {
// `later` waits for the work queued on `earlier` so far (no host wait).
void order_after(c10::cuda::CUDAStream earlier, c10::cuda::CUDAStream later) {
  at::cuda::CUDAEvent event;
  event.record(earlier);
  event.block(later);
}
}  // namespace

struct StepGraph::Impl {
  // kCuda only (the emulation touches no device).
  std::optional<c10::cuda::CUDAStream> side;
  std::unique_ptr<at::cuda::CUDAGraph> graph;
  std::function<void()> rerun;  // kHostRerun
  bool captured = false;

  void make_cuda() {
    side = c10::cuda::getStreamFromPool();
    graph = std::make_unique<at::cuda::CUDAGraph>();
  }
  // Runs `work` on the side stream, ordered after and before the caller's stream.
  void on_side(const std::function<void()>& work) {
    const c10::cuda::CUDAStream caller = c10::cuda::getCurrentCUDAStream();
    order_after(caller, *side);
    {
      c10::cuda::CUDAStreamGuard guard(*side);
      work();
    }
    order_after(*side, caller);
  }
  void begin_capture() {
    // Thread-local mode: the loader's threads may query events and allocate pinned memory
    // while this thread captures, which global mode would refuse (and so break the capture).
#if TORCH_VERSION_MAJOR >= 2
    graph->capture_begin({0, 0}, cudaStreamCaptureModeThreadLocal);
#else
    graph->capture_begin();
#endif
  }
  void wait() {
    if (captured && graph) cudaDeviceSynchronize();
  }
};

bool StepGraph::cuda_available() { return true; }
#else
struct StepGraph::Impl {
  std::function<void()> rerun;
  bool captured = false;
  void make_cuda() {}
  void on_side(const std::function<void()>& work) { work(); }
  void wait() {}
};

bool StepGraph::cuda_available() { return false; }
#endif

StepGraph::StepGraph(Backend backend) : backend_(backend) {
  ROOST_CHECK(backend != Backend::kCuda || cuda_available(),
              "CUDA graphs need roost built against a libtorch with CUDA");
  impl_ = std::make_unique<Impl>();
  if (backend == Backend::kCuda) impl_->make_cuda();
}

void StepGraph::wait() { impl_->wait(); }

StepGraph::~StepGraph() = default;

bool StepGraph::captured() const { return impl_->captured; }

void StepGraph::warmup(const std::function<void()>& work) {
  if (backend_ == Backend::kHostRerun) return work();
  impl_->on_side(work);
}

void StepGraph::capture(const std::function<void()>& work) {
  ROOST_CHECK(!impl_->captured, "StepGraph::capture: already captured");
  if (backend_ == Backend::kHostRerun) {
    impl_->rerun = work;
    impl_->captured = true;
    return;
  }
#ifdef ROOST_TORCH_CUDA
  std::string error;
  impl_->on_side([&] {
    impl_->begin_capture();
    try {
      work();
    } catch (const std::exception& e) {
      error = e.what();
    }
    try {
      impl_->graph->capture_end();  // ends the stream's capture even after a failure
    } catch (const std::exception& e) {
      if (error.empty()) error = e.what();
    }
  });
  if (!error.empty()) {
    impl_->graph->reset();
    ROOST_THROW("CUDA graph capture failed: ", error.substr(0, error.find('\n')));
  }
  impl_->captured = true;
#endif
}

void StepGraph::replay() {
  ROOST_CHECK(impl_->captured, "StepGraph::replay before a capture");
  if (backend_ == Backend::kHostRerun) return impl_->rerun();
#ifdef ROOST_TORCH_CUDA
  impl_->graph->replay();
#endif
}

}  // namespace roost::gpu
